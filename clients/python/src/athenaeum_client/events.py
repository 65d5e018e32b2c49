"""The messages and enums of athenaeum.events.v1 (generated; see generated/athenaeum/events/v1)."""

from .generated.athenaeum.events.v1 import *  # noqa: F403
from .generated.athenaeum.events.v1 import __all__ as __all__
