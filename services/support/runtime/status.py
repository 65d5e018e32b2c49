"""The one place where failures become gRPC statuses with google.rpc details."""

from __future__ import annotations

import asyncio

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from sqlalchemy import exc as sa_exc

from services.support.runtime import errors

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


def _pack(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def domain_status(error: errors.DomainError) -> status_pb2.Status:
    """google.rpc.Status for an expected failure: code, message, ErrorInfo, and BadRequest for bad fields."""
    code = next(code for cls, code in _CODES if isinstance(error, cls))
    details = [_pack(error_details_pb2.ErrorInfo(reason=error.reason, domain=DOMAIN, metadata=error.metadata))]
    if isinstance(error, errors.InvalidArgument):
        violations = [
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in error.violations
        ]
        details.append(_pack(error_details_pb2.BadRequest(field_violations=violations)))
    if isinstance(error, errors.NotFound):
        details.append(_pack(error_details_pb2.ResourceInfo(resource_name=error.resource)))
    if error.retry_delay is not None:
        retry = error_details_pb2.RetryInfo()
        retry.retry_delay.FromMilliseconds(int(error.retry_delay * 1000))
        details.append(_pack(retry))
    return status_pb2.Status(code=code, message=error.message, details=details)


def unexpected_status(error: BaseException) -> status_pb2.Status:
    """Status for anything that is not a domain error; never leaks internals to the caller."""
    if isinstance(error, grpc.aio.AioRpcError) and error.code() in (
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
    ):
        return status_pb2.Status(code=code_pb2.UNAVAILABLE, message="a dependency is unavailable; retry later")
    if isinstance(error, NotImplementedError):  # a generated base-class method nobody implemented yet
        return status_pb2.Status(code=code_pb2.UNIMPLEMENTED, message="this method is not implemented yet")
    if isinstance(error, _TRANSIENT):
        return status_pb2.Status(code=code_pb2.UNAVAILABLE, message="temporarily unavailable; retry later")
    return status_pb2.Status(code=code_pb2.INTERNAL, message="internal error")
