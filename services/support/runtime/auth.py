"""Whether the caller may make this call: one interceptor applying the access policy to every RPC.

The edge Envoy verifies access tokens (jwt_authn) and forwards the verified payload in CLAIMS_HEADER,
after stripping any copy a client sent. A service believes that header only when the call came through
its sidecar from the edge (x-forwarded-client-cert set by the sidecar from the mTLS peer), and believes
either header only on a listener nothing but its sidecar can reach (a Unix socket in a private folder),
never from a raw connection. A peer service sends no claims: it calls on its own behalf. Mechanism only:
which RPC needs what is declared in the protos (runtime.access), and where session revocations come from
is injected by the composition root.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf.message import Message

from services.support.runtime.consumers import Follower, StartAt
from services.support.runtime.errors import PermissionDenied, Unauthenticated
from services.support.runtime.identity import (
    CLAIMS_HEADER,
    CLIENT_ADDRESS_HEADER,
    EDGE_CALLER,
    MAX_ACCESS_TOKEN_LIFETIME,
    Rule,
    authorize,
    decode_claims,
    set_current_client_address,
    set_current_identity,
)
from services.support.runtime.identity import current_identity as current_identity  # where services look
from services.support.runtime.interceptors import Handler, caller_from_metadata, replace_behavior
from services.support.runtime.messaging import NatsLink, stream_name
from services.support.runtime.wire import event_subject

log = logging.getLogger("athenaeum.auth")


@dataclass(frozen=True, slots=True)
class Revocation:
    """A signed-out session: its access tokens are refused until `until` (when the last of them expires)."""

    session_id: str
    until: datetime


@dataclass(frozen=True, slots=True)
class RevocationFeed:
    """Where revocations are published (a JetStream subject) and how to read one message of it."""

    subject: str
    decode: Callable[[bytes], Revocation]

    @classmethod
    def of_event(cls, context: str, event_type: type[Message]) -> RevocationFeed:
        """The feed of an event message with `session_id` and `expire_time` fields, published by `context`."""

        def decode(data: bytes) -> Revocation:
            event: Any = event_type.FromString(data)
            return Revocation(str(event.session_id), event.expire_time.ToDatetime(tzinfo=UTC))

        return cls(event_subject(context, event_type()), decode)


class RevocationList:
    """Sessions revoked before their access tokens expire (logout, refresh-token reuse, deactivation)."""

    def __init__(
        self, feed: RevocationFeed | None = None, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._feed = feed
        self._until: dict[str, datetime] = {}
        self._now = clock

    def revoke(self, session_id: str, until: datetime) -> None:
        self._until[session_id] = max(until, self._until.get(session_id, until))

    def is_revoked(self, session_id: str) -> bool:
        until = self._until.get(session_id)
        if until is None:
            return False
        if until <= self._now():
            del self._until[session_id]  # every token of it has expired anyway
            return False
        return True

    def apply(self, revocation: Revocation) -> None:
        self.revoke(revocation.session_id, revocation.until)

    def follower(self, link: NatsLink) -> Follower | None:
        """Keeps up with the feed on JetStream, from the oldest revocation whose tokens may still live,
        through NATS restarts; None when this process honours no feed."""
        feed = self._feed
        if feed is None:
            return None
        return Follower(
            link,
            name="session-revocations",
            stream=stream_name(feed.subject.split(".")[1]),
            subject=feed.subject,
            handle=lambda message: self.apply(feed.decode(message.data)),
            start=StartAt(since=self._now() - MAX_ACCESS_TOKEN_LIFETIME),
        )


class AuthorizationInterceptor(grpc.aio.ServerInterceptor):
    """Sets the caller's Identity for the RPC and applies its Rule before the servicer runs."""

    def __init__(
        self, policy: Mapping[str, Rule], revocations: RevocationList, *, trust_mesh_headers: bool = True
    ) -> None:
        self._policy = policy
        self._revocations = revocations
        self._trust_mesh_headers = trust_mesh_headers

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler]],
        details: grpc.HandlerCallDetails,
    ) -> Handler:
        handler = await continuation(details)
        if handler is None:
            return handler
        metadata = tuple(details.invocation_metadata or ())
        caller = caller_from_metadata(metadata) if self._trust_mesh_headers else ""
        # Only the edge verifies tokens: claims from anyone else (a peer, a raw connection) are not evidence.
        from_edge = caller == EDGE_CALLER
        raw_claims = next((str(v) for k, v in metadata if k == CLAIMS_HEADER), "") if from_edge else ""
        address = next((str(v) for k, v in metadata if k == CLIENT_ADDRESS_HEADER), "") if from_edge else ""
        rule = self._policy.get(details.method)
        gate = _Gate(rule, caller, raw_claims, address[:64], self._revocations, details.method)
        return replace_behavior(
            handler, lambda kind, behavior: (gate.unary if kind.endswith("_unary") else gate.streaming)(behavior)
        )


@dataclass(frozen=True, slots=True)
class _Gate:
    rule: Rule | None
    caller: str
    raw_claims: str
    client_address: str
    revocations: RevocationList
    method: str

    def check(self, request: Any) -> None:
        identity = decode_claims(self.raw_claims) if self.raw_claims else None
        if identity is not None and self.revocations.is_revoked(identity.session_id):
            raise Unauthenticated("this session was signed out", reason="SESSION_REVOKED")
        set_current_identity(identity)
        set_current_client_address(self.client_address)
        if self.rule is None:  # fail closed: a method nobody wrote a rule for is nobody's
            raise PermissionDenied(f"{self.method} has no access rule", reason="NO_ACCESS_RULE")
        authorize(self.rule, identity=identity, caller=self.caller, request=request)

    def unary(self, behavior: Any) -> Any:
        async def wrapped(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            self.check(request)
            return await behavior(request, context)

        return wrapped

    def streaming(self, behavior: Any) -> Any:
        async def wrapped(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
            self.check(request)
            result = behavior(request, context)
            if inspect.isasyncgen(result):
                async for item in result:
                    yield item
            else:
                await result  # the servicer wrote its messages with context.write

        return wrapped
