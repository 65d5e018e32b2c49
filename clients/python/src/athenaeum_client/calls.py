"""The callers the generated stubs go through: grpcio (sync) and grpc.aio (async) with the session's
token, default timeouts, and failures raised as `ApiError`s.

A call refused as UNAUTHENTICATED although it carried the session's token means the server ended that
session before the token's time (signed out elsewhere, role or status changed): the session is renewed, or
forgotten when the server refuses that too, and a call whose request is still at hand is made again, once.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, NoReturn, TypeVar

import betterproto2
import grpc
import grpc.aio

from ._ranges import out_of_range
from .errors import RequestSerializationError, from_rpc_error
from .generated.stubs import DEFAULT, Default

Metadata = Sequence[tuple[str, str]]
Response = TypeVar("Response", bound=betterproto2.Message)
MetadataSource = Callable[[str], Metadata]
"""Given a call's path, the metadata every call carries (the session's token)."""
AsyncMetadataSource = Callable[[str], Awaitable[Metadata]]
Refusal = Callable[[str, Metadata], Metadata | None]
"""Told that a call which carried this session metadata was refused as UNAUTHENTICATED: renews (or forgets)
the session and answers the session metadata to make the call again with, or None not to."""
AsyncRefusal = Callable[[str, Metadata], Awaitable[Metadata | None]]
Channel = TypeVar("Channel", grpc.Channel, grpc.aio.Channel)
Source = TypeVar("Source", MetadataSource, AsyncMetadataSource)
OnRefusal = TypeVar("OnRefusal", Refusal, AsyncRefusal)
Timeout = float | None | Default
STREAMED_RESPONSES = frozenset({"unary_stream", "stream_stream"})
ONE_REQUEST = frozenset({"unary_unary", "unary_stream"})
"""Calls with one request: serialized before the call, and sent again when the session had to be renewed
(a stream of requests, consumed, cannot be)."""


class _Encoder:
    """Serializes a call's requests. One that cannot be (a naive datetime, a number its field cannot hold…) is
    the caller's mistake, which grpc would report as INTERNAL, a server's error, with the cause only in its log
    (or, for a number, send wrapped to another): it is kept to be raised instead."""

    def __init__(self) -> None:
        self.failure: RequestSerializationError | None = None

    def __call__(self, message: betterproto2.Message | bytes) -> bytes:
        if isinstance(message, bytes):  # a single request, serialized before its call
            return message
        try:
            wrong = out_of_range(message)  # bytes() would wrap it: the server would get another number
            if wrong is not None:
                raise ValueError(wrong)
            return bytes(message)
        except Exception as error:
            self.failure = RequestSerializationError(f"{type(message).__name__} cannot be serialized: {error}")
            raise self.failure from error


def _raise(error: grpc.RpcError, encoder: _Encoder) -> NoReturn:
    if encoder.failure is not None:
        raise encoder.failure  # its cause is the serializer's error
    raise from_rpc_error(error) from None


class _Caller(Generic[Channel, Source, OnRefusal]):
    """What both callers share: the channel, the session (its metadata, what to do when the server refuses
    it) and the default timeouts (`stream_timeout` for the calls that answer with a stream, `timeout` else)."""

    def __init__(
        self, channel: Channel, *, metadata: Source, refused: OnRefusal, timeout: float | None,
        stream_timeout: float | None,
    ) -> None:  # fmt: skip
        self._channel: Channel = channel
        self._metadata: Source = metadata
        self._refused: OnRefusal = refused
        self._timeouts = {False: timeout, True: stream_timeout}

    def _method(self, kind: str, path: str, response_type: type[Response], encoder: _Encoder) -> Any:
        """The channel's multi-callable of this kind ("unary_unary", …) for `path`."""
        method = getattr(self._channel, kind)
        return method(path, request_serializer=encoder, response_deserializer=response_type.FromString)

    def _prepare(self, kind: str, path: str, payload: Any, response_type: type[Response]) -> tuple[Any, Any, _Encoder]:
        """The call, its payload (a single request serialized now, so that the caller's mistake is raised
        here) and the encoder of a stream of requests."""
        encoder = _Encoder()
        return (
            self._method(kind, path, response_type, encoder),
            encoder(payload) if kind in ONE_REQUEST else payload,
            encoder,
        )

    def _options(self, kind: str, session_metadata: Metadata, timeout: Timeout, metadata: Metadata) -> dict[str, Any]:
        if timeout is DEFAULT:
            timeout = self._timeouts[kind in STREAMED_RESPONSES]
        return {"timeout": timeout, "metadata": (*session_metadata, *metadata)}

    @staticmethod
    def _session_refused(error: grpc.RpcError, sent: Metadata, first: bool) -> bool:
        """The first attempt of a call that carried the session's token was refused as UNAUTHENTICATED."""
        return first and bool(sent) and error.code() == grpc.StatusCode.UNAUTHENTICATED


class SyncCaller(_Caller[grpc.Channel, MetadataSource, Refusal]):
    """Makes unary and streaming calls on a grpcio channel."""

    def _again(
        self, path: str, error: grpc.RpcError, sent: Metadata, encoder: _Encoder, *, first: bool, repeatable: bool
    ) -> Metadata:
        """The session metadata to make a failed call again with; raises the call's error when it is not."""
        if self._session_refused(error, sent, first):
            retry = self._refused(path, sent)
            if retry is not None and repeatable:
                return retry
        _raise(error, encoder)

    def _unary(self, kind: str, path: str, payload: Any, response_type: type[Response], timeout, metadata) -> Any:
        call, payload, encoder = self._prepare(kind, path, payload, response_type)
        sent, first = self._metadata(path), True
        while True:
            try:
                return call(payload, **self._options(kind, sent, timeout, metadata))
            except grpc.RpcError as error:
                sent = self._again(path, error, sent, encoder, first=first, repeatable=kind in ONE_REQUEST)
                first = False

    def _stream(
        self, kind: str, path: str, payload: Any, response_type: type[Response], timeout, metadata
    ) -> Iterator[Response]:
        call, payload, encoder = self._prepare(kind, path, payload, response_type)
        sent, first = self._metadata(path), True
        while True:
            responses = call(payload, **self._options(kind, sent, timeout, metadata))
            answered = False
            try:
                for response in responses:
                    answered = True
                    yield response
                return
            except grpc.RpcError as error:
                repeatable = kind in ONE_REQUEST and not answered
                sent = self._again(path, error, sent, encoder, first=first, repeatable=repeatable)
                first = False
            finally:
                responses.cancel()  # the caller stopped reading: end the call (nothing to do once it ended)

    def unary_unary(
        self, path: str, request: betterproto2.Message, response_type: type[Response], *,
        timeout: Timeout, metadata: Metadata,
    ) -> Response:  # fmt: skip
        return self._unary("unary_unary", path, request, response_type, timeout, metadata)

    def unary_stream(
        self, path: str, request: betterproto2.Message, response_type: type[Response], *,
        timeout: Timeout, metadata: Metadata,
    ) -> Iterator[Response]:  # fmt: skip
        return self._stream("unary_stream", path, request, response_type, timeout, metadata)

    def stream_unary(
        self, path: str, requests: Iterable[betterproto2.Message], response_type: type[Response], *,
        timeout: Timeout, metadata: Metadata,
    ) -> Response:  # fmt: skip
        return self._unary("stream_unary", path, iter(requests), response_type, timeout, metadata)

    def stream_stream(
        self, path: str, requests: Iterable[betterproto2.Message], response_type: type[Response], *,
        timeout: Timeout, metadata: Metadata,
    ) -> Iterator[Response]:  # fmt: skip
        return self._stream("stream_stream", path, iter(requests), response_type, timeout, metadata)


class AsyncCaller(_Caller[grpc.aio.Channel, AsyncMetadataSource, AsyncRefusal]):
    """Makes unary and streaming calls on a grpc.aio channel."""

    async def _again(
        self, path: str, error: grpc.RpcError, sent: Metadata, encoder: _Encoder, *, first: bool, repeatable: bool
    ) -> Metadata:
        """The session metadata to make a failed call again with; raises the call's error when it is not."""
        if self._session_refused(error, sent, first):
            retry = await self._refused(path, sent)
            if retry is not None and repeatable:
                return retry
        _raise(error, encoder)

    async def _unary(self, kind: str, path: str, payload: Any, response_type: type[Response], timeout, metadata) -> Any:
        call, payload, encoder = self._prepare(kind, path, payload, response_type)
        sent, first = await self._metadata(path), True
        while True:
            try:
                return await call(payload, **self._options(kind, sent, timeout, metadata))
            except grpc.RpcError as error:
                sent = await self._again(path, error, sent, encoder, first=first, repeatable=kind in ONE_REQUEST)
                first = False

    async def _stream(
        self, kind: str, path: str, payload: Any, response_type: type[Response], timeout, metadata
    ) -> AsyncIterator[Response]:
        call, payload, encoder = self._prepare(kind, path, payload, response_type)
        sent, first = await self._metadata(path), True
        while True:
            responses = call(payload, **self._options(kind, sent, timeout, metadata))
            answered = False
            try:
                async for response in responses:
                    answered = True
                    yield response
                return
            except grpc.RpcError as error:
                repeatable = kind in ONE_REQUEST and not answered
                sent = await self._again(path, error, sent, encoder, first=first, repeatable=repeatable)
                first = False
            finally:
                responses.cancel()

    async def unary_unary(
        self, path: str, request: betterproto2.Message, response_type: type[Response], *,
        timeout: Timeout, metadata: Metadata,
    ) -> Response:  # fmt: skip
        return await self._unary("unary_unary", path, request, response_type, timeout, metadata)

    def unary_stream(
        self, path: str, request: betterproto2.Message, response_type: type[Response], *,
        timeout: Timeout, metadata: Metadata,
    ) -> AsyncIterator[Response]:  # fmt: skip
        return self._stream("unary_stream", path, request, response_type, timeout, metadata)

    async def stream_unary(
        self, path: str, requests: AsyncIterable[betterproto2.Message] | Iterable[betterproto2.Message],
        response_type: type[Response], *, timeout: Timeout, metadata: Metadata,
    ) -> Response:  # fmt: skip
        return await self._unary("stream_unary", path, requests, response_type, timeout, metadata)

    def stream_stream(
        self, path: str, requests: AsyncIterable[betterproto2.Message] | Iterable[betterproto2.Message],
        response_type: type[Response], *, timeout: Timeout, metadata: Metadata,
    ) -> AsyncIterator[Response]:  # fmt: skip
        return self._stream("stream_stream", path, requests, response_type, timeout, metadata)
