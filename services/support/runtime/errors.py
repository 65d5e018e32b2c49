"""Domain error vocabulary shared by every service.

Pure Python: domain modules raise these without knowing about gRPC. `services.support.runtime.status` maps each
class to a gRPC status code with `google.rpc` details, in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldViolation:
    field: str
    description: str


class DomainError(Exception):
    """Base of every expected failure. `reason` is an UPPER_SNAKE machine-readable cause (ErrorInfo.reason)."""

    reason: str = "DOMAIN_ERROR"
    retry_after: float | None = None
    """Seconds after which a retry may succeed (google.rpc.RetryInfo; Retry-After at the edge); None: unsaid."""
    lasting: bool = True
    """Whether a retry of the request would meet the same state: a NOT_FOUND / FAILED_PRECONDITION that is
    kept as the answer for its request_id. False for a refusal by state that may change any moment (an account
    the service has not heard the latest of): the id stays free for the retry."""

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
        retry_after: float | None = None,
        lasting: bool = True,
    ):
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})
        if retry_after is not None:
            self.retry_after = retry_after
        self.lasting = lasting


class NotFound(DomainError):
    reason = "NOT_FOUND"

    def __init__(self, resource: str, message: str | None = None, **kwargs: object) -> None:
        super().__init__(message or f"{resource} not found", **kwargs)  # type: ignore[arg-type]
        self.resource = resource


class AlreadyExists(DomainError):
    reason = "ALREADY_EXISTS"


class InvalidArgument(DomainError):
    reason = "INVALID_ARGUMENT"

    def __init__(self, violations: list[FieldViolation] | FieldViolation, message: str | None = None):
        found = [violations] if isinstance(violations, FieldViolation) else list(violations)
        if not found:
            raise ValueError("InvalidArgument needs at least one field violation")
        super().__init__(message or "; ".join(f"{v.field}: {v.description}" for v in found))
        self.violations = found

    @classmethod
    def field(cls, field: str, description: str) -> InvalidArgument:
        return cls(FieldViolation(field, description))


class FailedPrecondition(DomainError):
    """The request is valid but the system is not in a state that allows it (e.g. LOAN_LIMIT_REACHED)."""

    reason = "FAILED_PRECONDITION"


class Conflict(DomainError):
    """A concurrent change won (stale etag, lost race): the client may re-read and retry. Maps to ABORTED."""

    reason = "CONFLICT"


class PermissionDenied(DomainError):
    reason = "PERMISSION_DENIED"


class Unauthenticated(DomainError):
    reason = "UNAUTHENTICATED"


class Throttled(DomainError):
    reason = "THROTTLED"


class DependencyUnavailable(DomainError):
    """A service this one depends on cannot be reached right now; retrying (with the same request_id) is safe."""

    reason = "DEPENDENCY_UNAVAILABLE"


def collect_violations(*checks: FieldViolation | None) -> None:
    """Raise one InvalidArgument naming every failed check, so a client can fix all fields at once."""
    violations = [check for check in checks if check is not None]
    if violations:
        raise InvalidArgument(violations)
