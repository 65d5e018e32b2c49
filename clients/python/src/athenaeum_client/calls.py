"""The callers the generated stubs go through: grpcio (sync) and grpc.aio (async) with the session's
token, a default timeout, and failures raised as `ApiError`s."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from typing import TypeVar

import betterproto2
import grpc
import grpc.aio

from .errors import from_rpc_error

Metadata = Sequence[tuple[str, str]]
Response = TypeVar("Response", bound=betterproto2.Message)
MetadataSource = Callable[[str], Metadata]
"""Given a call's path, the metadata every call carries (the session's token)."""
AsyncMetadataSource = Callable[[str], Awaitable[Metadata]]


def _serialize(message: betterproto2.Message) -> bytes:
    return bytes(message)


class SyncCaller:
    """Makes unary and streaming calls on a grpcio channel."""

    def __init__(self, channel: grpc.Channel, *, metadata: MetadataSource, timeout: float | None) -> None:
        self._channel = channel
        self._metadata = metadata
        self._timeout = timeout

    def _options(self, path: str, timeout: float | None, metadata: Metadata) -> dict:
        return {
            "timeout": self._timeout if timeout is None else timeout,
            "metadata": (*self._metadata(path), *metadata),
        }

    def unary_unary(
        self,
        path: str,
        request: betterproto2.Message,
        response_type: type[Response],
        *,
        timeout: float | None,
        metadata: Metadata,
    ) -> Response:
        call = self._channel.unary_unary(
            path, request_serializer=_serialize, response_deserializer=response_type.FromString
        )
        try:
            return call(request, **self._options(path, timeout, metadata))
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    def unary_stream(
        self,
        path: str,
        request: betterproto2.Message,
        response_type: type[Response],
        *,
        timeout: float | None,
        metadata: Metadata,
    ) -> Iterator[Response]:
        call = self._channel.unary_stream(
            path, request_serializer=_serialize, response_deserializer=response_type.FromString
        )
        try:
            yield from call(request, **self._options(path, timeout, metadata))
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    def stream_unary(
        self,
        path: str,
        requests: Iterable[betterproto2.Message],
        response_type: type[Response],
        *,
        timeout: float | None,
        metadata: Metadata,
    ) -> Response:
        call = self._channel.stream_unary(
            path, request_serializer=_serialize, response_deserializer=response_type.FromString
        )
        try:
            return call(iter(requests), **self._options(path, timeout, metadata))
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None


class AsyncCaller:
    """Makes unary and streaming calls on a grpc.aio channel."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        metadata: AsyncMetadataSource,
        timeout: float | None,
    ) -> None:
        self._channel = channel
        self._metadata = metadata
        self._timeout = timeout

    async def _options(self, path: str, timeout: float | None, metadata: Metadata) -> dict:
        return {
            "timeout": self._timeout if timeout is None else timeout,
            "metadata": (*await self._metadata(path), *metadata),
        }

    async def unary_unary(
        self,
        path: str,
        request: betterproto2.Message,
        response_type: type[Response],
        *,
        timeout: float | None,
        metadata: Metadata,
    ) -> Response:
        call = self._channel.unary_unary(
            path, request_serializer=_serialize, response_deserializer=response_type.FromString
        )
        try:
            return await call(request, **await self._options(path, timeout, metadata))
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    async def unary_stream(
        self,
        path: str,
        request: betterproto2.Message,
        response_type: type[Response],
        *,
        timeout: float | None,
        metadata: Metadata,
    ) -> AsyncIterator[Response]:
        call = self._channel.unary_stream(
            path, request_serializer=_serialize, response_deserializer=response_type.FromString
        )
        try:
            async for response in call(request, **await self._options(path, timeout, metadata)):
                yield response
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    async def stream_unary(
        self,
        path: str,
        requests: AsyncIterable[betterproto2.Message] | Iterable[betterproto2.Message],
        response_type: type[Response],
        *,
        timeout: float | None,
        metadata: Metadata,
    ) -> Response:
        call = self._channel.stream_unary(
            path, request_serializer=_serialize, response_deserializer=response_type.FromString
        )
        try:
            return await call(requests, **await self._options(path, timeout, metadata))
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None
