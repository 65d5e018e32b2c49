"""The messages and enums of athenaeum.catalog.v1 (generated; see generated/athenaeum/catalog/v1)."""

from .generated.athenaeum.catalog.v1 import *  # noqa: F403
from .generated.athenaeum.catalog.v1 import __all__ as __all__
