"""Whether the caller may make this call: the access policy the runtime's interceptor applies to every RPC.

The edge Envoy verifies access tokens (jwt_authn) and forwards the verified payload in CLAIMS_HEADER,
after stripping any copy a client sent. A service believes that header only when the call came through
its sidecar from the edge (x-forwarded-client-cert set by the sidecar from the mTLS peer), and believes
either header only on a listener nothing but its sidecar can reach (a Unix socket in a private folder),
never from a raw connection. A peer service sends no claims: it calls on its own behalf. Mechanism only:
which RPC needs what is declared in the protos (runtime.access), and where session revocations come from
is injected by the composition root.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from google.protobuf.message import Message

from services.support.runtime.errors import PermissionDenied, Unauthenticated
from services.support.runtime.followers import Follower, StartAt
from services.support.runtime.identity import (
    EDGE_CALLER,
    MAX_ACCESS_TOKEN_LIFETIME,
    Rule,
    authorize,
    decode_claims,
    set_current_client_address,
    set_current_identity,
)
from services.support.runtime.identity import current_identity as current_identity  # where services look
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


class AccessPolicy:
    """Who may make which call: the rule of every served method, and the sessions signed out since."""

    def __init__(self, rules: Mapping[str, Rule], revocations: RevocationList) -> None:
        self._rules = rules
        self._revocations = revocations

    def rule(self, method: str) -> Rule | None:
        return self._rules.get(method)

    def admit(
        self, method: str, rule: Rule | None, *, caller: str, raw_claims: str, client_address: str, request: Any
    ) -> None:
        """Set the caller's Identity (and the client's address) for the RPC, then raise unless `rule` lets them
        make this request. Only the edge verifies tokens: the claims and the address count only when the call
        came from the edge through our sidecar (`caller`); a peer calls on its own behalf."""
        from_edge = caller == EDGE_CALLER
        identity = decode_claims(raw_claims) if raw_claims and from_edge else None
        if identity is not None and self._revocations.is_revoked(identity.session_id):
            raise Unauthenticated("this session was signed out", reason="SESSION_REVOKED")
        set_current_identity(identity)
        _signed_out.set(None if identity is None else partial(self._revocations.is_revoked, identity.session_id))
        set_current_client_address(client_address[:64] if from_edge else "")
        if rule is None:  # fail closed: a method nobody wrote a rule for is nobody's
            raise PermissionDenied(f"{method} has no access rule", reason="NO_ACCESS_RULE")
        authorize(rule, identity=identity, caller=caller, request=request)


_signed_out: contextvars.ContextVar[Callable[[], bool] | None] = contextvars.ContextVar(
    "athenaeum_signed_out", default=None
)
"""Whether the caller's session has been signed out since the call was admitted (set by `admit`)."""


def ensure_still_signed_in(now: datetime) -> None:
    """For a call that lasts (a stream): UNAUTHENTICATED once the caller's access token has expired or their
    session was signed out (logout, deactivation, a password change) since the call began. A stream admitted
    once went on for as long as it was held open: a dismissed librarian's live tail of the audit log too."""
    identity = current_identity()
    if identity is None:
        return
    if identity.expires_at <= now:
        raise Unauthenticated("the access token expired: sign in again and call again", reason="TOKEN_EXPIRED")
    signed_out = _signed_out.get()
    if signed_out is not None and signed_out():
        raise Unauthenticated("this session was signed out", reason="SESSION_REVOKED")
