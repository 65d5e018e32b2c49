"""Who the end user is, and whether they may call this RPC: one interceptor reading one policy table.

The edge Envoy verifies access tokens (jwt_authn) and forwards the verified payload in CLAIMS_HEADER,
after stripping any copy a client sent. A service believes that header only when the call came through
its sidecar from a mesh identity (x-forwarded-client-cert set by the sidecar from the mTLS peer), never
from a raw connection. Mechanism only: which RPC needs what lives in `services.support.mesh.access`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextvars
import inspect
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import grpc
import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

from athenaeum.users.v1 import events_pb2
from services.support.mesh.registry import EDGE, spiffe_id
from services.support.runtime.errors import PermissionDenied, Unauthenticated
from services.support.runtime.interceptors import caller_from_metadata
from services.support.runtime.messaging import subject

log = logging.getLogger("athenaeum.auth")

ACCESS_TOKEN_ISSUER = "athenaeum-users"
ACCESS_TOKEN_AUDIENCE = "athenaeum"
CLAIMS_HEADER = "x-athenaeum-claims"
"""Where the edge puts the verified JWT payload (base64url JSON); stripped from client requests first."""
SESSION_REVOKED_SUBJECT = subject("users", "session_revoked")
MAX_ACCESS_TOKEN_LIFETIME = timedelta(hours=1)
"""No access token lives longer: a revoked session needs remembering for at most this long."""
EDGE_CALLER = spiffe_id(EDGE)


class Role(StrEnum):
    READER = "reader"
    LIBRARIAN = "librarian"
    ADMIN = "admin"


STAFF = frozenset({Role.LIBRARIAN, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})
ME = "users/me"


@dataclass(frozen=True, slots=True)
class Identity:
    """The signed-in end user behind a call, as the verified access token describes them."""

    subject: str
    """"users/{user}"."""
    role: Role
    session_id: str
    expires_at: datetime
    patron_category: str = ""
    raw_claims: str = ""
    """The header as received, to propagate the user's identity on calls to peers."""

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    def names_self(self, name: str) -> bool:
        """True when `name` is this user ("users/{own id}" or "users/me")."""
        return name in (self.subject, ME)

    def resolve(self, name: str) -> str:
        """ "users/me" -> this user's name; any other name unchanged."""
        return self.subject if name == ME else name


_identity: contextvars.ContextVar[Identity | None] = contextvars.ContextVar("athenaeum_identity", default=None)


def current_identity() -> Identity | None:
    """The end user of the RPC being served (None: anonymous, or a peer service calling on its own)."""
    return _identity.get()


def propagated_metadata() -> tuple[tuple[str, str], ...]:
    """Metadata that carries the current end user to a peer, so the peer authorizes them too."""
    identity = _identity.get()
    return ((CLAIMS_HEADER, identity.raw_claims),) if identity and identity.raw_claims else ()


def decode_claims(raw: str) -> Identity:
    """Identity from the base64url JSON payload Envoy forwards; Unauthenticated when it is not one."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        audiences = payload["aud"] if isinstance(payload["aud"], list) else [payload["aud"]]
        if payload["iss"] != ACCESS_TOKEN_ISSUER or ACCESS_TOKEN_AUDIENCE not in audiences:
            raise ValueError("not a token of ours")  # the edge checks too; this is defence in depth
        return Identity(
            subject=str(payload["sub"]),
            role=Role(payload["role"]),
            session_id=str(payload["sid"]),
            expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
            patron_category=str(payload.get("cat", "")),
            raw_claims=raw,
        )
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise Unauthenticated("the access token's claims are malformed", reason="MALFORMED_CLAIMS") from None


@dataclass(frozen=True, slots=True)
class Rule:
    """Who may call one RPC. `public`: anyone. `mesh_only`: peer services only, never the edge.
    Otherwise a signed-in user whose role is in `roles` (empty: any role), or, failing that, one whose
    own name is in the request field `self_field` (dotted path, e.g. "user.name")."""

    public: bool = False
    mesh_only: bool = False
    roles: frozenset[Role] = frozenset()
    self_field: str = ""


PUBLIC = Rule(public=True)
MESH_ONLY = Rule(mesh_only=True)
AUTHENTICATED = Rule()


def role_in(roles: frozenset[Role], *, or_self: str = "") -> Rule:
    """Callers with one of `roles`; others only when `or_self` names themselves."""
    return Rule(roles=roles, self_field=or_self)


def field_value(request: Any, path: str) -> str:
    value = request
    for part in path.split("."):
        value = getattr(value, part)
    return str(value)


def authorize(rule: Rule, *, identity: Identity | None, caller: str, request: Any) -> None:
    """Raise Unauthenticated / PermissionDenied unless `rule` lets this caller make this request."""
    from_peer = bool(caller) and caller != EDGE_CALLER
    if rule.public:
        return
    if rule.mesh_only:
        if not from_peer:
            raise PermissionDenied("this method is for services of the mesh only", reason="MESH_ONLY")
        return
    if identity is None:
        if from_peer:
            return  # a peer service calling on its own behalf; the sidecar's RBAC chose who may call
        raise Unauthenticated("sign in first: this method needs an access token", reason="TOKEN_REQUIRED")
    if not rule.roles or identity.role in rule.roles:
        return
    if rule.self_field and identity.names_self(field_value(request, rule.self_field)):
        return
    raise PermissionDenied(f"a {identity.role} may not do this", reason="ROLE_NOT_ALLOWED")


class RevocationList:
    """Sessions revoked before their access tokens expire (logout, refresh-token reuse, deactivation)."""

    def __init__(self, nats_url: str = "", *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._nats_url = nats_url
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

    def apply(self, event: events_pb2.SessionRevoked) -> None:
        self.revoke(event.session_id, event.expire_time.ToDatetime(tzinfo=UTC))

    async def follow(self) -> None:
        """Keep up with session revocations on JetStream, replaying those whose tokens may still live."""
        delay = 0.2
        while True:
            try:
                await self._follow_once(self._nats_url)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # NATS away or the stream not declared yet: try again
                log.warning("revocation feed unavailable: %s", error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _follow_once(self, nats_url: str) -> None:
        client = await nats.connect(nats_url, name="revocations", max_reconnect_attempts=-1, connect_timeout=2)
        try:
            since = datetime.now(UTC) - MAX_ACCESS_TOKEN_LIFETIME
            subscription = await client.jetstream().subscribe(
                SESSION_REVOKED_SUBJECT,
                ordered_consumer=True,
                config=ConsumerConfig(
                    deliver_policy=DeliverPolicy.BY_START_TIME, opt_start_time=since.isoformat().replace("+00:00", "Z")
                ),
            )
            async for message in subscription.messages:
                self.apply(events_pb2.SessionRevoked.FromString(message.data))
        finally:
            await client.close()


class AuthorizationInterceptor(grpc.aio.ServerInterceptor):
    """Sets the caller's Identity for the RPC and applies its Rule before the servicer runs."""

    def __init__(self, policy: Mapping[str, Rule], revocations: RevocationList) -> None:
        self._policy = policy
        self._revocations = revocations

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None:
            return handler
        metadata = tuple(details.invocation_metadata or ())
        caller = caller_from_metadata(metadata)
        raw_claims = next((str(v) for k, v in metadata if k == CLAIMS_HEADER), "") if caller else ""
        rule = self._policy.get(details.method)
        gate = _Gate(rule, caller, raw_claims, self._revocations, details.method)
        if handler.unary_unary:
            return handler._replace(unary_unary=gate.unary(handler.unary_unary))
        if handler.unary_stream:
            return handler._replace(unary_stream=gate.streaming(handler.unary_stream))
        if handler.stream_unary:
            return handler._replace(stream_unary=gate.unary(handler.stream_unary))
        return handler._replace(stream_stream=gate.streaming(handler.stream_stream))


@dataclass(frozen=True, slots=True)
class _Gate:
    rule: Rule | None
    caller: str
    raw_claims: str
    revocations: RevocationList
    method: str

    def check(self, request: Any) -> None:
        identity = decode_claims(self.raw_claims) if self.raw_claims else None
        if identity is not None and self.revocations.is_revoked(identity.session_id):
            raise Unauthenticated("this session was signed out", reason="SESSION_REVOKED")
        _identity.set(identity)
        if self.rule is None:  # fail closed: a method nobody wrote a rule for is nobody's
            raise PermissionDenied(f"{self.method} has no access rule", reason="NO_ACCESS_RULE")
        authorize(self.rule, identity=identity, caller=self.caller, request=request)

    def unary(self, behavior: Any) -> Any:
        async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
            self.check(request)
            return await behavior(request, context)

        return wrapped

    def streaming(self, behavior: Any) -> Any:
        async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            self.check(request)
            result = behavior(request, context)
            if inspect.isasyncgen(result):
                async for item in result:
                    yield item
            else:
                await result  # the servicer wrote its messages with context.write

        return wrapped
