"""Errors as exceptions: every failed call raises an `ApiError` (a subclass per status code) that carries the
decoded `google.rpc` details the server attached.

    try:
        client.loans.issue_loan(request)
    except FailedPrecondition as error:
        print(error.reason)                     # "LOAN_LIMIT_REACHED", from the ErrorInfo detail
    except InvalidArgument as error:
        print(error.field_violations)          # {"patron": "is required", ...}, from the BadRequest detail
"""

from __future__ import annotations

from typing import TypeVar

import betterproto2
import grpc

from .generated.google import rpc

STATUS_DETAILS_KEY = "grpc-status-details-bin"
_TYPE_URL_PREFIX = "type.googleapis.com/google.rpc."
_DETAIL_TYPES: dict[str, type[betterproto2.Message]] = {
    _TYPE_URL_PREFIX + cls.__name__: cls
    for cls in (
        rpc.ErrorInfo,
        rpc.BadRequest,
        rpc.PreconditionFailure,
        rpc.ResourceInfo,
        rpc.RetryInfo,
        rpc.QuotaFailure,
        rpc.RequestInfo,
        rpc.Help,
        rpc.LocalizedMessage,
        rpc.DebugInfo,
    )
}
Detail = TypeVar("Detail", bound=betterproto2.Message)


class ApiError(Exception):
    """A call the server (or the edge) refused or could not complete."""

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(self, code: grpc.StatusCode, message: str, details: list[betterproto2.Message] | None = None) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.details: list[betterproto2.Message] = details or []
        """The decoded google.rpc details (ErrorInfo, BadRequest, …), in the order the server sent them."""

    def detail(self, kind: type[Detail]) -> Detail | None:
        """The first detail of this type, if the server sent one."""
        return next((item for item in self.details if isinstance(item, kind)), None)

    @property
    def error_info(self) -> rpc.ErrorInfo | None:
        return self.detail(rpc.ErrorInfo)

    @property
    def bad_request(self) -> rpc.BadRequest | None:
        return self.detail(rpc.BadRequest)

    @property
    def reason(self) -> str:
        """ErrorInfo.reason, a stable name for the rule that refused the call ("" when none was sent)."""
        info = self.error_info
        return info.reason if info else ""

    @property
    def field_violations(self) -> dict[str, str]:
        """BadRequest's violations, by field path."""
        bad = self.bad_request
        return {v.field: v.description for v in bad.field_violations} if bad else {}


class Cancelled(ApiError):
    code = grpc.StatusCode.CANCELLED


class InvalidArgument(ApiError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class DeadlineExceeded(ApiError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class NotFound(ApiError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(ApiError):
    code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDenied(ApiError):
    code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhausted(ApiError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPrecondition(ApiError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class Aborted(ApiError):
    code = grpc.StatusCode.ABORTED


class Unimplemented(ApiError):
    code = grpc.StatusCode.UNIMPLEMENTED


class Internal(ApiError):
    code = grpc.StatusCode.INTERNAL


class Unavailable(ApiError):
    code = grpc.StatusCode.UNAVAILABLE


class Unauthenticated(ApiError):
    code = grpc.StatusCode.UNAUTHENTICATED


class RequestSerializationError(ValueError):
    """A request the client could not serialize (a naive datetime, a number out of range…): the caller's
    mistake, found before it reached the server, not a server's error; the serializer's own error is the
    cause. A single request never left; a stream of requests ends there."""


_BY_CODE: dict[grpc.StatusCode, type[ApiError]] = {cls.code: cls for cls in ApiError.__subclasses__()}


def decode_details(status_details: bytes) -> list[betterproto2.Message]:
    """The details of a serialized google.rpc.Status (the grpc-status-details-bin trailer); unknown types
    are kept as google.protobuf.Any."""
    status = rpc.Status.FromString(status_details)
    decoded: list[betterproto2.Message] = []
    for item in status.details:
        kind = _DETAIL_TYPES.get(item.type_url)
        decoded.append(kind.FromString(item.value) if kind else item)
    return decoded


def api_error(code: grpc.StatusCode, message: str, trailing_metadata: object) -> ApiError:
    """The exception for a failed call, with the details found in its trailing metadata."""
    details: list[betterproto2.Message] = []
    for key, value in trailing_metadata or ():  # type: ignore[attr-defined]
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            details = decode_details(value)
    return _BY_CODE.get(code, ApiError)(code, message, details)


def from_rpc_error(error: grpc.RpcError) -> ApiError:
    """Translate a grpcio error (sync or aio) into an ApiError."""
    return api_error(error.code(), error.details() or "", error.trailing_metadata())  # type: ignore[attr-defined]
