from services.support.runtime.settings import BaseServiceSettings


class NotificationsSettings(BaseServiceSettings):
    """The notifications service's settings (none of its own yet)."""
