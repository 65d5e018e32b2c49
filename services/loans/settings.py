from services.runtime.settings import BaseServiceSettings


class LoansSettings(BaseServiceSettings):
    """The loans service's settings (none of its own yet)."""
