from services.runtime.settings import BaseServiceSettings


class UsersSettings(BaseServiceSettings):
    """The users service's settings (none of its own yet)."""
