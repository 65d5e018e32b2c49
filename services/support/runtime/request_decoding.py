"""Requests as the interceptors hand them on: bytes that are not a valid message of the method's request type
become INVALID_ARGUMENT (gRPC would answer UNKNOWN naming the parser's exception), and each decoded request,
each message of a stream as it is read, passes the boundary check (boundary.py) before the servicer sees it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from google.protobuf.message import Message

from services.support.runtime.boundary import check_request
from services.support.runtime.errors import InvalidArgument

_UNDECODABLE = object()
"""What a request that is not a valid message of its type decodes to; refused before the servicer runs."""


def tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    """Garbage bytes become INVALID_ARGUMENT (gRPC would answer UNKNOWN naming the parser's exception)."""
    if deserializer is None:
        return None

    def decode(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception:
            return _UNDECODABLE

    return decode


async def each_checked(requests: AsyncIterator[Any], boundary: bool) -> AsyncIterator[Any]:
    async for request in requests:
        check_decoded(request, boundary)
        yield request


def check_decoded(request: Any, boundary: bool) -> None:
    """A request `tolerant` decoded: refused if it was garbage, else (`boundary`) checked by `check_request`."""
    if request is _UNDECODABLE:
        raise InvalidArgument.field("request", "is not a valid message of this method's request type")
    if boundary and isinstance(request, Message):
        check_request(request)
