"""The one place where failures become gRPC statuses with google.rpc details."""

from __future__ import annotations

import asyncio
import math
from datetime import timedelta

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from sqlalchemy import exc as sa_exc

from services.support.runtime import errors
from services.support.runtime.conflicts import causes, is_database_conflict, sqlstate

DOMAIN = "athenaeum.library"

_CODES: tuple[tuple[type[errors.DomainError], int], ...] = (
    (errors.NotFound, code_pb2.NOT_FOUND),
    (errors.AlreadyExists, code_pb2.ALREADY_EXISTS),
    (errors.InvalidArgument, code_pb2.INVALID_ARGUMENT),
    (errors.FailedPrecondition, code_pb2.FAILED_PRECONDITION),
    (errors.Conflict, code_pb2.ABORTED),
    (errors.PermissionDenied, code_pb2.PERMISSION_DENIED),
    (errors.Unauthenticated, code_pb2.UNAUTHENTICATED),
    (errors.Throttled, code_pb2.RESOURCE_EXHAUSTED),
    (errors.DependencyUnavailable, code_pb2.UNAVAILABLE),
)

# Infrastructure failures a caller can safely retry: nothing was committed.
_TRANSIENT: tuple[type[BaseException], ...] = (
    ConnectionError,
    OSError,
    TimeoutError,
    asyncio.TimeoutError,
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
)


class RememberedRefusal(Exception):
    """A final refusal an earlier call with the same request_id got, given again exactly as it was."""

    def __init__(self, status: status_pb2.Status) -> None:
        super().__init__(status.message)
        self.status = status

    @classmethod
    def from_bytes(cls, data: bytes) -> RememberedRefusal:
        return cls(status_pb2.Status.FromString(data))


def _pack(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


MAX_MESSAGE = 1_000
MAX_DETAIL = 256
"""Errors may quote what the client sent; never more than this of it (a megabyte barcode stays home)."""


def _clip(text: str, limit: int = MAX_DETAIL) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def domain_status(error: errors.DomainError) -> status_pb2.Status:
    """google.rpc.Status for an expected failure: code, message, ErrorInfo, and BadRequest for bad fields."""
    code = next(code for cls, code in _CODES if isinstance(error, cls))
    metadata = {_clip(key): _clip(value) for key, value in error.metadata.items()}
    details = [_pack(error_details_pb2.ErrorInfo(reason=error.reason, domain=DOMAIN, metadata=metadata))]
    if isinstance(error, errors.InvalidArgument):
        violations = [
            error_details_pb2.BadRequest.FieldViolation(field=_clip(v.field), description=_clip(v.description))
            for v in error.violations
        ]
        details.append(_pack(error_details_pb2.BadRequest(field_violations=violations)))
    if isinstance(error, errors.NotFound):
        details.append(_pack(error_details_pb2.ResourceInfo(resource_name=_clip(error.resource))))
    if error.retry_after is not None:
        delay = duration_pb2.Duration()
        delay.FromTimedelta(timedelta(seconds=error.retry_after))
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    return status_pb2.Status(code=code, message=_clip(error.message, MAX_MESSAGE), details=details)


def retry_after_header(status: status_pb2.Status) -> tuple[tuple[str, str], ...]:
    """("retry-after", whole seconds) when the status carries RetryInfo: the edge hands it to HTTP clients."""
    for detail in status.details:
        info = error_details_pb2.RetryInfo()
        if detail.Unpack(info):
            return (("retry-after", str(max(math.ceil(info.retry_delay.ToTimedelta().total_seconds()), 1))),)
    return ()


# SQLSTATE classes of failures that say nothing about the request: the connection broke (08), the server is
# shutting down or starting up (57P01-57P03), or out of connections/memory (53).
_TRANSIENT_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53")
_TRANSIENT_DRIVER_ERRORS = ("InternalClientError", "InterfaceError", "ConnectionDoesNotExistError")
DATABASE_AWAY = "the database is unavailable for a moment; retry later (with the same request_id)"
DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
TEMPORARILY_UNAVAILABLE = "TEMPORARILY_UNAVAILABLE"
_RETRY_DELAY = 1.0  # Postgres restarted by the launcher or the orchestrator is back within seconds
_DATABASE_MODULES = ("sqlalchemy", "asyncpg")
_OUT_OF_RESOURCES = {
    # Not "a moment": a full disk lasts until someone frees space, and the caller should say so to whom can.
    "53100": "the library's database is out of disk space; tell the administrator",
    "53200": "the library's database is out of memory; retry later, and tell the administrator if it lasts",
    "53300": "the library's database has no connection to spare; retry later",
}


def database_failure(error: BaseException) -> int | None:
    """UNAVAILABLE or ABORTED when the failure is the database's momentary state, not the request's fault."""
    if is_database_conflict(error):
        return code_pb2.ABORTED
    for cause in causes(error):
        state = sqlstate(cause)
        if state.startswith(_TRANSIENT_SQLSTATES) or type(cause).__name__ in _TRANSIENT_DRIVER_ERRORS:
            return code_pb2.UNAVAILABLE
    return None


def _database_unavailable(error: BaseException) -> str:
    """What to tell a caller the database could not serve: which resource it ran out of, if it says so."""
    for cause in causes(error):
        if message := _OUT_OF_RESOURCES.get(sqlstate(cause)):
            return message
    return DATABASE_AWAY


def _raised_by_database(error: BaseException) -> bool:
    """Whether a bare OSError/TimeoutError came from the database driver (a refused connect is not wrapped)."""
    for cause in causes(error):
        if isinstance(cause, sa_exc.SQLAlchemyError):
            return True
        traceback = cause.__traceback__
        while traceback is not None:
            if str(traceback.tb_frame.f_globals.get("__name__", "")).startswith(_DATABASE_MODULES):
                return True
            traceback = traceback.tb_next
    return False


def _retryable(message: str, reason: str, *, retry: bool = True) -> status_pb2.Status:
    """UNAVAILABLE with the ErrorInfo and RetryInfo a peer's outage carries, so clients handle both alike."""
    error = errors.DependencyUnavailable(message, reason=reason, retry_after=_RETRY_DELAY if retry else None)
    return domain_status(error)


def unexpected_status(error: BaseException) -> status_pb2.Status:
    """Status for anything that is not a domain error; never leaks internals to the caller."""
    database = database_failure(error)
    if database == code_pb2.ABORTED:
        return status_pb2.Status(code=database, message="the request collided with another one; retry it")
    if database == code_pb2.UNAVAILABLE or (isinstance(error, _TRANSIENT) and _raised_by_database(error)):
        message = _database_unavailable(error)
        return _retryable(message, DATABASE_UNAVAILABLE, retry=message != _OUT_OF_RESOURCES["53100"])
    if isinstance(error, grpc.aio.AioRpcError) and error.code() in (
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
    ):
        return status_pb2.Status(code=code_pb2.UNAVAILABLE, message="a dependency is unavailable; retry later")
    if isinstance(error, NotImplementedError):  # a generated base-class method nobody implemented yet
        return status_pb2.Status(code=code_pb2.UNIMPLEMENTED, message="this method is not implemented yet")
    if isinstance(error, _TRANSIENT):
        return _retryable("temporarily unavailable; retry later (with the same request_id)", TEMPORARILY_UNAVAILABLE)
    return status_pb2.Status(code=code_pb2.INTERNAL, message="internal error")
