"""Who is calling: mesh identities (SPIFFE), the signed-in end user, and the rule an RPC's caller must meet.

Pure: domain and application code may import it (roles, the Identity of the current user).
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import functools
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from services.support.runtime.errors import PermissionDenied, Unauthenticated
from services.support.runtime.names import canonical_name

TRUST_DOMAIN = "athenaeum"
EDGE = "edge"
"""The mesh identity of the edge Envoy: calls from the outside world arrive with it."""

ACCESS_TOKEN_ISSUER = "athenaeum-users"
ACCESS_TOKEN_AUDIENCE = "athenaeum"
CLAIMS_HEADER = "x-athenaeum-claims"
"""Where the edge puts the verified JWT payload (base64url JSON); stripped from client requests first."""
CLIENT_ADDRESS_HEADER = "x-athenaeum-client-address"
"""Where the edge puts the address it sees the request come from (the client's, or what trusted proxies in
front of it vouch for); replaced on every request, so a client cannot choose it."""
ON_BEHALF_HEADER = "x-athenaeum-on-behalf-of"
"""On a peer's call made while serving a signed-in user: that user's name, for the audit trail alone (the
callee's events name them as their actor, as the caller's own do). It grants nothing: the call is still the
peer's own, and the header counts only from a peer, never from the edge (a client cannot choose it)."""
MAX_ACCESS_TOKEN_LIFETIME = timedelta(hours=1)
"""No access token lives longer: a revoked session needs remembering for at most this long."""


def spiffe_id(identity: str) -> str:
    """The URI SAN a mesh identity carries in its certificate."""
    return f"spiffe://{TRUST_DOMAIN}/{identity}"


EDGE_CALLER = spiffe_id(EDGE)


class Role(StrEnum):
    """The same words as the `role` claim of access tokens."""

    READER = "reader"
    LIBRARIAN = "librarian"
    ADMIN = "admin"


ANONYMOUS = "anonymous"
"""The actor of a call from outside the mesh without a signed-in user (what the outbox records)."""

ACTIVE_ACCOUNT = "active"
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
    account_status: str = ACTIVE_ACCOUNT
    """The `st` claim: "active", or "blocked" / "expired" for an account signed in only to read its own
    records (a token without the claim was issued to an active account: none other could sign in then)."""

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    @property
    def restricted(self) -> bool:
        """Signed in to read its own records and sign out, nothing more (a blocked or expired account)."""
        return self.account_status != ACTIVE_ACCOUNT

    def names_self(self, name: str) -> bool:
        """True when `name` is this user ("users/{own id}" in any spelling of the id, or "users/me")."""
        return canonical_name(name) in (self.subject, ME)

    def resolve(self, name: str) -> str:
        """ "users/me" -> this user's name; any other name in its canonical spelling."""
        return self.subject if name == ME else canonical_name(name)


_current: contextvars.ContextVar[Identity | None] = contextvars.ContextVar("athenaeum_identity", default=None)


def current_identity() -> Identity | None:
    """The end user of the RPC being served (None: anonymous, or a peer service calling on its own)."""
    return _current.get()


def set_current_identity(identity: Identity | None) -> None:
    """Called by the authorization interceptor before the servicer runs."""
    _current.set(identity)


_on_behalf: contextvars.ContextVar[str] = contextvars.ContextVar("athenaeum_on_behalf", default="")
_USER_NAME = re.compile(r"users/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def set_on_behalf(raw: str, *, caller: str) -> None:
    """Called for every RPC served, with ON_BEHALF_HEADER as it came (only a peer's counts: see it)."""
    from_peer = bool(caller) and caller != EDGE_CALLER
    _on_behalf.set(raw if from_peer and _USER_NAME.fullmatch(raw) else "")


def acting_user() -> str:
    """Whose doing the RPC being served is, for the audit trail: the signed-in caller's name, else the user a
    peer's call is made for; "" for neither."""
    identity = _current.get()
    return identity.subject if identity is not None else _on_behalf.get()


_client_address: contextvars.ContextVar[str] = contextvars.ContextVar("athenaeum_client_address", default="")


def current_client_address() -> str:
    """The address the edge saw the RPC being served come from; "" when it did not come through the edge."""
    return _client_address.get()


def set_current_client_address(address: str) -> None:
    """Called by the authorization interceptor, with what the edge said (CLIENT_ADDRESS_HEADER), or ""."""
    _client_address.set(address)


@functools.lru_cache(maxsize=1024)
def decode_claims(raw: str) -> Identity:
    """Identity from the base64url JSON payload Envoy forwards; Unauthenticated when it is not one.
    Remembered (an access token is sent with many calls; the Identity is immutable, refusals are not kept)."""
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
            account_status=str(payload.get("st", ACTIVE_ACCOUNT)),
        )
    except (ValueError, KeyError, TypeError, binascii.Error, OverflowError):
        raise Unauthenticated("the access token's claims are malformed", reason="MALFORMED_CLAIMS") from None


@dataclass(frozen=True, slots=True)
class Rule:
    """Who may call one RPC. `public`: anyone. `mesh_only`: peer services only, never the edge.
    Otherwise a signed-in user whose role is in `roles` (empty: any role), or, failing that, one whose
    own name is in the request field `self_field` (dotted path, e.g. "user.name"); and, with `peers`,
    peer services calling on their own behalf (with no user behind the call)."""

    public: bool = False
    mesh_only: bool = False
    roles: frozenset[Role] = frozenset()
    self_field: str = ""
    peers: bool = False
    reads: bool = False
    """The method only reads (every HTTP binding of it is a GET): a restricted account may call it."""
    withdraws: bool = False
    """The method withdraws from or protects the account's own (its access option's `or_restricted`): a restricted
    account may call it too (a blocked reader cancels the holds they no longer may collect)."""


PUBLIC = Rule(public=True)
MESH_ONLY = Rule(mesh_only=True)
SIGNED_IN = Rule()


def role_in(roles: frozenset[Role], *, or_self: str = "", or_peers: bool = False) -> Rule:
    """Callers with one of `roles`; others only when `or_self` names themselves; peers when `or_peers`."""
    return Rule(roles=roles, self_field=or_self, peers=or_peers)


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
        if from_peer and rule.peers:
            return  # a peer service calling on its own behalf; the sidecar's RBAC chose which peers may call
        if from_peer:
            raise PermissionDenied("this method is not open to peer services", reason="PEERS_NOT_ALLOWED")
        raise Unauthenticated("sign in first: this method needs an access token", reason="TOKEN_REQUIRED")
    if identity.restricted and not (rule.reads or rule.withdraws):
        raise PermissionDenied(
            f"the account is {identity.account_status}: it may only read its own loans, fines, holds and "
            "profile (and cancel its holds or change its password) until the library lifts that",
            reason="ACCOUNT_RESTRICTED",
            metadata={"status": identity.account_status},
        )
    if not rule.roles or identity.role in rule.roles:
        return
    if rule.self_field and identity.names_self(field_value(request, rule.self_field)):
        return
    raise PermissionDenied(f"a {identity.role} may not do this", reason="ROLE_NOT_ALLOWED")
