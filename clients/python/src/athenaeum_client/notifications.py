"""The messages and enums of athenaeum.notifications.v1 (generated; see generated/athenaeum/notifications/v1)."""

from .generated.athenaeum.notifications.v1 import *  # noqa: F403
from .generated.athenaeum.notifications.v1 import __all__ as __all__
