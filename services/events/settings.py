from services.support.runtime.settings import BaseServiceSettings


class EventsSettings(BaseServiceSettings):
    """The events service's settings (none of its own yet)."""
