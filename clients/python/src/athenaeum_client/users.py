"""The messages and enums of athenaeum.users.v1 (generated; see generated/athenaeum/users/v1)."""

from .generated.athenaeum.users.v1 import *  # noqa: F403
from .generated.athenaeum.users.v1 import __all__ as __all__
