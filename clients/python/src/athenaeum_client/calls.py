"""The callers the generated stubs go through: grpcio (sync) and grpc.aio (async) with the session's
token, default timeouts, and failures raised as `ApiError`s."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

import betterproto2
import grpc
import grpc.aio

from .errors import from_rpc_error
from .generated.stubs import DEFAULT, Default

Metadata = Sequence[tuple[str, str]]
Response = TypeVar("Response", bound=betterproto2.Message)
MetadataSource = Callable[[str], Metadata]
"""Given a call's path, the metadata every call carries (the session's token)."""
AsyncMetadataSource = Callable[[str], Awaitable[Metadata]]
Channel = TypeVar("Channel", grpc.Channel, grpc.aio.Channel)
Source = TypeVar("Source", MetadataSource, AsyncMetadataSource)
Timeout = float | None | Default
STREAMED_RESPONSES = frozenset({"unary_stream", "stream_stream"})


def _serialize(message: betterproto2.Message) -> bytes:
    return bytes(message)


class _Caller(Generic[Channel, Source]):
    """What both callers share: the channel, where the session's metadata comes from, the default timeouts
    (`stream_timeout` for the calls that answer with a stream, `timeout` for the others)."""

    def __init__(
        self, channel: Channel, *, metadata: Source, timeout: float | None, stream_timeout: float | None
    ) -> None:
        self._channel = channel
        self._metadata = metadata
        self._timeouts = {False: timeout, True: stream_timeout}

    def _method(self, kind: str, path: str, response_type: type[Response]) -> Any:
        """The channel's multi-callable of this kind ("unary_unary", …) for `path`."""
        method = getattr(self._channel, kind)
        return method(path, request_serializer=_serialize, response_deserializer=response_type.FromString)

    def _options(self, kind: str, session_metadata: Metadata, timeout: Timeout, metadata: Metadata) -> dict[str, Any]:
        if timeout is DEFAULT:
            timeout = self._timeouts[kind in STREAMED_RESPONSES]
        return {"timeout": timeout, "metadata": (*session_metadata, *metadata)}


class SyncCaller(_Caller[grpc.Channel, MetadataSource]):
    """Makes unary and streaming calls on a grpcio channel."""

    def _call(self, kind: str, path: str, payload: Any, response_type: type[Response], timeout, metadata) -> Any:
        options = self._options(kind, self._metadata(path), timeout, metadata)
        try:
            return self._method(kind, path, response_type)(payload, **options)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    def unary_unary(
        self, path: str, request: betterproto2.Message, response_type: type[Response], *,
        timeout: Timeout, metadata: Metadata,
    ) -> Response:  # fmt: skip
        return self._call("unary_unary", path, request, response_type, timeout, metadata)

    def unary_stream(
        self, path: str, request: betterproto2.Message, response_type: type[Response], *,
        timeout: Timeout, metadata: Metadata,
    ) -> Iterator[Response]:  # fmt: skip
        return self._stream("unary_stream", path, request, response_type, timeout, metadata)

    def stream_stream(
        self, path: str, requests: Iterable[betterproto2.Message], response_type: type[Response], *,
        timeout: Timeout, metadata: Metadata,
    ) -> Iterator[Response]:  # fmt: skip
        return self._stream("stream_stream", path, iter(requests), response_type, timeout, metadata)

    def _stream(
        self, kind: str, path: str, payload: Any, response_type: type[Response], timeout, metadata
    ) -> Iterator[Response]:
        responses = self._call(kind, path, payload, response_type, timeout, metadata)
        try:
            yield from responses
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    def stream_unary(
        self, path: str, requests: Iterable[betterproto2.Message], response_type: type[Response], *,
        timeout: Timeout, metadata: Metadata,
    ) -> Response:  # fmt: skip
        return self._call("stream_unary", path, iter(requests), response_type, timeout, metadata)


class AsyncCaller(_Caller[grpc.aio.Channel, AsyncMetadataSource]):
    """Makes unary and streaming calls on a grpc.aio channel."""

    async def _start(self, kind: str, path: str, payload: Any, response_type: type[Response], timeout, metadata) -> Any:
        options = self._options(kind, await self._metadata(path), timeout, metadata)
        return self._method(kind, path, response_type)(payload, **options)

    async def unary_unary(
        self, path: str, request: betterproto2.Message, response_type: type[Response], *,
        timeout: Timeout, metadata: Metadata,
    ) -> Response:  # fmt: skip
        try:
            return await (await self._start("unary_unary", path, request, response_type, timeout, metadata))
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    def unary_stream(
        self, path: str, request: betterproto2.Message, response_type: type[Response], *,
        timeout: Timeout, metadata: Metadata,
    ) -> AsyncIterator[Response]:  # fmt: skip
        return self._stream("unary_stream", path, request, response_type, timeout, metadata)

    def stream_stream(
        self, path: str, requests: AsyncIterable[betterproto2.Message] | Iterable[betterproto2.Message],
        response_type: type[Response], *, timeout: Timeout, metadata: Metadata,
    ) -> AsyncIterator[Response]:  # fmt: skip
        return self._stream("stream_stream", path, requests, response_type, timeout, metadata)

    async def _stream(
        self, kind: str, path: str, payload: Any, response_type: type[Response], timeout, metadata
    ) -> AsyncIterator[Response]:
        try:
            async for response in await self._start(kind, path, payload, response_type, timeout, metadata):
                yield response
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    async def stream_unary(
        self, path: str, requests: AsyncIterable[betterproto2.Message] | Iterable[betterproto2.Message],
        response_type: type[Response], *, timeout: Timeout, metadata: Metadata,
    ) -> Response:  # fmt: skip
        try:
            return await (await self._start("stream_unary", path, requests, response_type, timeout, metadata))
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None
