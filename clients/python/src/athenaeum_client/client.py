"""`Client` (sync, grpcio) and `AsyncClient` (grpc.aio): one channel to the edge, a stub per service, and a
signed-in session whose access token is sent with every call and renewed before it expires (or as soon as
the server refuses it).

    with Client("localhost:8080") as client:
        client.sign_in("ada@example.org", "Correct-Horse-42")
        me = client.users.get_user(users.GetUserRequest(name="users/me"), timeout=5)
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType

import grpc
import grpc.aio

from ._tokens import UNAUTHENTICATED_PATHS, Tokens
from .calls import AsyncCaller, Metadata, SyncCaller
from .errors import ApiError, Unauthenticated
from .generated import stubs
from .generated.athenaeum.users import v1 as users
from .generated.stubs import PUBLIC_PATHS

DEFAULT_TARGET = "localhost:8080"
DEFAULT_TIMEOUT = 30.0
"""Seconds a call that answers once may take unless it says otherwise (timeout=None: no limit)."""
DEFAULT_STREAM_TIMEOUT = None
"""A call that answers with a stream (watch_events, stream_record_events) stays open while it is read,
unless the call (or the client's `stream_timeout`) gives it a deadline."""


def _channel_options() -> list[tuple[str, int]]:
    # The edge is reached directly; an HTTP proxy from the environment would only get in the way.
    return [("grpc.enable_http_proxy", 0)]


class Client:
    """The Athenaeum API over gRPC, synchronously. Thread-safe; close it (or use `with`) when done."""

    def __init__(
        self,
        target: str = DEFAULT_TARGET,
        *,
        credentials: grpc.ChannelCredentials | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        stream_timeout: float | None = DEFAULT_STREAM_TIMEOUT,
        channel: grpc.Channel | None = None,
    ) -> None:
        """`target` is the edge's host:port; `credentials` make it TLS; `channel` replaces both. `timeout` is
        the default deadline (seconds) of the calls that answer once, `stream_timeout` of those that answer
        with a stream; None is no deadline, and a call's own `timeout=` overrides either."""
        if channel is None:
            options = _channel_options()
            channel = (
                grpc.secure_channel(target, credentials, options=options)
                if credentials
                else grpc.insecure_channel(target, options=options)
            )
        self.channel = channel
        self.tokens = Tokens()
        self._refreshing = threading.Lock()
        caller = SyncCaller(
            channel, metadata=self._metadata, refused=self._refused, timeout=timeout, stream_timeout=stream_timeout
        )
        self.users = stubs.UsersServiceStub(caller)
        self.auth = stubs.AuthServiceStub(caller)
        self.catalog = stubs.CatalogServiceStub(caller)
        self.loans = stubs.LoansServiceStub(caller)
        self.notifications = stubs.NotificationsServiceStub(caller)
        self.events = stubs.EventsServiceStub(caller)

    def sign_in(self, email: str, password: str) -> users.User:
        """Sign in; later calls carry the access token, renewed before it expires. Returns the account."""
        response = self.auth.login(users.LoginRequest(email=email, password=password))
        self.tokens.update(response.tokens)
        if response.user is None:
            raise ValueError("the server returned no user")
        return response.user

    def sign_out(self) -> None:
        """Revoke the session's refresh token (which ends the access token too) and forget both; a session
        that had already ended is forgotten just the same."""
        try:
            if self.tokens.refresh_token:
                self.auth.logout(users.LogoutRequest(refresh_token=self.tokens.refresh_token))
        except Unauthenticated:
            pass
        finally:
            self.tokens.clear()

    def refresh(self) -> None:
        """Exchange the refresh token for a new pair now (calls do it by themselves near expiry). A refused
        refresh token (the session was signed out elsewhere, the account blocked) is forgotten with its access
        token: the client goes on anonymously instead of failing every later call, public ones included."""
        try:
            response = self.auth.refresh_token(users.RefreshTokenRequest(refresh_token=self.tokens.refresh_token))
        except Unauthenticated:
            self.tokens.clear()
            raise
        self.tokens.update(response.tokens)

    def _metadata(self, path: str) -> Metadata:
        if path in UNAUTHENTICATED_PATHS:
            return ()
        if self.tokens.needs_refresh():
            with self._refreshing:
                if self.tokens.needs_refresh():  # another thread may have renewed it meanwhile
                    self.refresh()
        return self.tokens.metadata()

    def _refused(self, path: str, sent: Metadata) -> Metadata | None:
        """A call that carried `sent` met UNAUTHENTICATED: the server ended the session before its token's time
        (signed out elsewhere, role or status changed). Renew it once, or forget it if that is refused too.
        What to make the call again with: the new token, nothing (a public call, anonymously), or None."""
        with self._refreshing:
            if self.tokens.metadata() == tuple(sent):  # nobody renewed (or forgot) it meanwhile
                try:
                    self.refresh()
                except Unauthenticated:
                    pass  # forgotten
                except ApiError:
                    return None  # not renewed (the server unavailable…): the call's refusal stands
        return self.tokens.metadata() or (() if path in PUBLIC_PATHS else None)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class AsyncClient:
    """The Athenaeum API over gRPC with asyncio (grpc.aio). Create and use it inside one event loop."""

    def __init__(
        self,
        target: str = DEFAULT_TARGET,
        *,
        credentials: grpc.ChannelCredentials | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        stream_timeout: float | None = DEFAULT_STREAM_TIMEOUT,
        channel: grpc.aio.Channel | None = None,
    ) -> None:
        """As Client's."""
        if channel is None:
            options = _channel_options()
            channel = (
                grpc.aio.secure_channel(target, credentials, options=options)
                if credentials
                else grpc.aio.insecure_channel(target, options=options)
            )
        self.channel = channel
        self.tokens = Tokens()
        self._refreshing = asyncio.Lock()
        caller = AsyncCaller(
            channel, metadata=self._metadata, refused=self._refused, timeout=timeout, stream_timeout=stream_timeout
        )
        self.users = stubs.UsersServiceAsyncStub(caller)
        self.auth = stubs.AuthServiceAsyncStub(caller)
        self.catalog = stubs.CatalogServiceAsyncStub(caller)
        self.loans = stubs.LoansServiceAsyncStub(caller)
        self.notifications = stubs.NotificationsServiceAsyncStub(caller)
        self.events = stubs.EventsServiceAsyncStub(caller)

    async def sign_in(self, email: str, password: str) -> users.User:
        """Sign in; later calls carry the access token, renewed before it expires. Returns the account."""
        response = await self.auth.login(users.LoginRequest(email=email, password=password))
        self.tokens.update(response.tokens)
        if response.user is None:
            raise ValueError("the server returned no user")
        return response.user

    async def sign_out(self) -> None:
        """Revoke the session's refresh token and forget both (see Client.sign_out)."""
        try:
            if self.tokens.refresh_token:
                await self.auth.logout(users.LogoutRequest(refresh_token=self.tokens.refresh_token))
        except Unauthenticated:
            pass
        finally:
            self.tokens.clear()

    async def refresh(self) -> None:
        """Exchange the refresh token for a new pair now (see Client.refresh: a refused one is forgotten)."""
        try:
            request = users.RefreshTokenRequest(refresh_token=self.tokens.refresh_token)
            response = await self.auth.refresh_token(request)
        except Unauthenticated:
            self.tokens.clear()
            raise
        self.tokens.update(response.tokens)

    async def _metadata(self, path: str) -> Metadata:
        if path in UNAUTHENTICATED_PATHS:
            return ()
        if self.tokens.needs_refresh():
            async with self._refreshing:
                if self.tokens.needs_refresh():
                    await self.refresh()
        return self.tokens.metadata()

    async def _refused(self, path: str, sent: Metadata) -> Metadata | None:
        """A call that carried `sent` met UNAUTHENTICATED (see Client._refused)."""
        async with self._refreshing:
            if self.tokens.metadata() == tuple(sent):
                try:
                    await self.refresh()
                except Unauthenticated:
                    pass
                except ApiError:
                    return None
        return self.tokens.metadata() or (() if path in PUBLIC_PATHS else None)

    async def close(self) -> None:
        await self.channel.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
