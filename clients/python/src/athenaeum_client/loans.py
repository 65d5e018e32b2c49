"""The messages and enums of athenaeum.loans.v1 (generated; see generated/athenaeum/loans/v1)."""

from .generated.athenaeum.loans.v1 import *  # noqa: F403
from .generated.athenaeum.loans.v1 import __all__ as __all__
