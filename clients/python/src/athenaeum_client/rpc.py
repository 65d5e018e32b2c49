"""The google.rpc error details an `ApiError` carries (ErrorInfo, BadRequest, …), generated."""

from .generated.google.rpc import *  # noqa: F403
from .generated.google.rpc import __all__ as __all__
