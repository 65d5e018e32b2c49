"""The one registry of Athenaeum's services.

Envoy configuration (edge and sidecars), the local launcher, docker-compose and the Helm values are all
derived from this table, so the three ways of running the mesh cannot drift apart. Only facts about
the mesh live here: names, gRPC services, who may call whom. No business rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.support.runtime.identity import EDGE, TRUST_DOMAIN, spiffe_id

__all__ = [
    "EDGE",
    "EDGE_CORS_ORIGINS",
    "EDGE_RATE_LIMITS",
    "EDGE_TRUSTED_PROXY_HOPS",
    "LIBRARY_BRANCHES",
    "LIBRARY_CURRENCY",
    "LIBRARY_TIME_ZONE",
    "LIBRARY_WEB_URL",
    "SERVICES",
    "TRUST_DOMAIN",
    "LibrarySetting",
    "RateLimit",
    "RateLimits",
    "ServiceSpec",
    "identities",
    "service",
    "spiffe_id",
    "upstreams_of",
]


@dataclass(frozen=True, slots=True)
class LibrarySetting:
    """A fact about the library as a whole that several services read: one value per deployment, so they
    cannot disagree (compose: one environment variable; Helm: one value under `library:`)."""

    name: str
    """The environment setting every service that reads it is given."""
    chart_value: str
    """Its key under the chart's `library:` values."""
    default: str
    """What compose passes when the environment gives none (the chart's default is in values.yaml)."""


LIBRARY_TIME_ZONE = LibrarySetting("ATHENAEUM_LIBRARY_TIME_ZONE", "timeZone", "UTC")
"""The library's IANA time zone: loans are due, and memberships end, at the end of its day; notices give dates
and keep SMS quiet hours in it for readers who chose no zone of their own."""

LIBRARY_BRANCHES = LibrarySetting("ATHENAEUM_LIBRARY_BRANCHES", "branches", "")
"""The library's branch codes, separated by commas (MAIN,EAST): the places a hold may be picked up at, a desk may
name and a copy may belong to. Empty: none listed, any code is taken as given."""

LIBRARY_CURRENCY = LibrarySetting("ATHENAEUM_CURRENCY_CODE", "currencyCode", "RUB")
"""The ISO 4217 code of the library's currency: every fine is in it (loans stores it on each)."""

LIBRARY_WEB_URL = LibrarySetting("ATHENAEUM_WEB_URL", "webUrl", "http://localhost:8080")
"""The web client as readers reach it (the edge's public address): links in messages (a password reset's) start
with it. The chart derives it from the edge's Ingress when not given."""


GRPC_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""gRPC's default cap on a message a server receives."""


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """One service of the mesh."""

    name: str
    """Short name; also the mesh identity, the database name suffix and the Python package."""
    grpc_services: tuple[str, ...]
    """Fully-qualified gRPC service names it serves (what the edge and sidecars route on)."""
    callers: tuple[str, ...]
    """Mesh identities allowed through its sidecar's RBAC (the edge included)."""
    index: int
    """Stable position, used to lay out local ports."""
    caller_methods: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Callers (of `callers`) the sidecar lets call only these methods, by name ("ListLoans"): a peer that
    needs a few reads gets those, not the whole API. A caller not named here may call any method RBAC allows."""
    secret_settings: tuple[str, ...] = ()
    """Environment settings that hold secrets: compose demands them, Helm reads them from a Secret."""
    settings: tuple[tuple[str, str], ...] = ()
    """Plain settings an operator sets per deployment, with the value compose uses when the environment
    gives none (Helm: serviceOverrides.<name>.env)."""
    library_settings: tuple[LibrarySetting, ...] = ()
    """The library-wide settings it reads (LibrarySetting)."""
    durables: tuple[str, ...] = ()
    """The JetStream durable consumers it owns, on any stream: no other service's NATS user may make, delete,
    fetch from or acknowledge them (mesh/nats_auth.py)."""
    streams: tuple[tuple[str, str], ...] = ()
    """Streams of its own besides its context's, with their subject: it alone may publish there and make or
    change them."""
    reads: tuple[str, ...] = ()
    """The contexts whose event streams it reads besides its own (its consumers and followers): it may make
    consumers on those streams only (mesh/nats_auth.py). Every service follows the users stream (revoked
    sessions)."""
    subscribes: tuple[str, ...] = ()
    """Core NATS subjects it subscribes to, besides the replies to its own requests (its inbox)."""
    max_message_bytes: int = GRPC_MAX_MESSAGE_BYTES
    """The largest request message it takes (its gRPC server's cap): what the edge holds of one of its calls."""

    def methods_for(self, caller: str) -> tuple[str, ...] | None:
        """The gRPC paths `caller` is limited to (None: not limited)."""
        names = dict(self.caller_methods).get(caller)
        if names is None:
            return None
        return tuple(f"/{service}/{name}" for service in self.grpc_services for name in names)

    @property
    def internal_methods(self) -> tuple[str, ...]:
        """gRPC paths only peers may call (AUDIENCE_MESH in the protos): the sidecar refuses them to the edge."""
        from services.support.runtime.access import mesh_only_methods  # reads the generated API, on demand

        return mesh_only_methods(self.grpc_services)

    @property
    def streaming_methods(self) -> tuple[str, ...]:
        """gRPC paths whose answers stream (WatchEvents): routed without the unary calls' timeout."""
        return self._methods(lambda method: method.server_streaming)

    @property
    def uploading_methods(self) -> tuple[str, ...]:
        """gRPC paths whose requests stream and answers do not (ImportBooks): their minute starts after the upload."""
        return self._methods(lambda method: method.client_streaming and not method.server_streaming)

    def _methods(self, which: Callable[[Any], bool]) -> tuple[str, ...]:
        from services.support.runtime.access import method_path, service_descriptor  # the generated API, on demand

        return tuple(
            method_path(method)
            for name in self.grpc_services
            for method in service_descriptor(name).methods
            if which(method)
        )

    @property
    def database(self) -> str:
        return f"athenaeum_{self.name}"

    @property
    def module(self) -> str:
        """The Python module whose `main()` starts this service."""
        return f"services.{self.name}.main"


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        name="users",
        grpc_services=("athenaeum.users.v1.UsersService", "athenaeum.users.v1.AuthService"),
        # loans asks for borrowing eligibility; notifications for the accounts its projection does not hold.
        callers=(EDGE, "loans", "notifications"),
        index=0,
        secret_settings=("ATHENAEUM_SIGNING_KEY_PASSPHRASE", "ATHENAEUM_BOOTSTRAP_ADMIN_PASSWORD"),
        # A membership lasts to the end of its expiry's day; an account's home branch is one of the library's.
        library_settings=(LIBRARY_TIME_ZONE, LIBRARY_BRANCHES),
    ),
    ServiceSpec(
        name="catalog",
        grpc_services=("athenaeum.catalog.v1.CatalogService",),
        # loans checks copies out and back in; notifications reads the titles of held books.
        callers=(EDGE, "loans", "notifications"),
        index=1,
        reads=("users",),
        library_settings=(LIBRARY_BRANCHES,),  # a copy's own branch, where it is sent home to
    ),
    ServiceSpec(
        name="loans",
        grpc_services=("athenaeum.loans.v1.LoansService",),
        # users asks, before it closes an account, whether the patron has books out or fines unpaid.
        callers=(EDGE, "users"),
        index=2,
        caller_methods=(("users", ("GetClosingStanding",)),),
        durables=("loans-patrons", "loans-copies", "loans-item-types"),
        # The accounts it lends by; the changes of copies set aside for holds; the item types its rules name.
        reads=("users", "catalog"),
        # The end of the library's day; the branches a hold may be picked up at and a desk may name; the
        # currency of its fines.
        library_settings=(LIBRARY_TIME_ZONE, LIBRARY_BRANCHES, LIBRARY_CURRENCY),
    ),
    ServiceSpec(
        name="notifications",
        grpc_services=("athenaeum.notifications.v1.NotificationsService",),
        callers=(EDGE,),
        index=3,
        secret_settings=("ATHENAEUM_SMTP_PASSWORD", "ATHENAEUM_SMS_AUTH_TOKEN"),
        # ATHENAEUM_CONSUMER_GROUP's default names them
        durables=("notifications-loans", "notifications-users", "notifications-catalog"),
        reads=("users", "loans", "catalog"),  # recipients, and what to tell them of (new books: their followers)
        # The dates of notices to readers without a zone; the links in messages.
        library_settings=(LIBRARY_TIME_ZONE, LIBRARY_WEB_URL),
        # The mail server and the SMS provider; compose's defaults are its Mailpit and SMS sink.
        settings=(
            ("ATHENAEUM_SMTP_HOST", "mailpit"),
            ("ATHENAEUM_SMTP_PORT", "1025"),
            ("ATHENAEUM_SMTP_USERNAME", ""),
            ("ATHENAEUM_SMTP_STARTTLS", "auto"),
            ("ATHENAEUM_SMTP_FROM_ADDRESS", "library@athenaeum.local"),
            ("ATHENAEUM_SMS_BASE_URL", "http://sms-sink:2580"),
            ("ATHENAEUM_SMS_ACCOUNT_SID", "ACathenaeumdev"),
            ("ATHENAEUM_SMS_FROM_NUMBER", "+15005550006"),
        ),
    ),
    ServiceSpec(
        name="events",
        grpc_services=("athenaeum.events.v1.EventsService",),
        callers=(EDGE,),
        index=4,
        durables=("events-audit", "events-store"),
        streams=(("EVENTS_INGEST", "events.ingest.v1"),),  # accepted batches, journaled before they are stored
        reads=("users", "catalog", "loans", "notifications"),  # the audit trail of every context
        subscribes=("athenaeum.>", "events.ingest.v1"),  # the live feed: domain events and activity as they come
        max_message_bytes=17 * 1024 * 1024,  # a batch of events is read whole, to answer which one is too large
    ),
)

EDGE_CORS_ORIGINS: tuple[str, ...] = ()
"""Browser origins the container configs (compose, Helm) let call the edge cross-origin. A web UI served by
the edge itself is same-origin and needs none; add a UI's own origin here (e.g. "https://library.example.org")
and run `athenaeum generate`. `athenaeum up` takes them from --cors-origin / ATHENAEUM_CORS_ORIGINS."""

EDGE_TRUSTED_PROXY_HOPS = 0
"""Proxies in front of the edge whose X-Forwarded-For the edge believes (the compose TLS front, an Ingress): 1
behind one of them, so rate limits see the client's address rather than the proxy's. Leave 0 while clients
can reach the edge directly: they could then write any address into the header."""


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A token bucket: `burst` requests at once, refilled at `per_second`."""

    burst: int
    per_second: int


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The edge's local rate limits per class of route (read from the protos: see envoy_edge_guard). Over
    the limit the edge answers 429 RESOURCE_EXHAUSTED with Retry-After, before any service works."""

    auth: RateLimit
    """Public mutations (register, sign in, refresh, sign out), per client address: slows a password sprayer."""
    write: RateLimit
    """Every other mutation, per signed-in user."""
    read: RateLimit
    """Methods bound to GET (and health, reflection), per client address: generous."""
    other: RateLimit
    """Anything no class above counts (anonymous writes the services refuse anyway), per route for everyone."""


EDGE_RATE_LIMITS = RateLimits(
    auth=RateLimit(burst=100, per_second=2),
    write=RateLimit(burst=200, per_second=20),
    read=RateLimit(burst=300, per_second=50),
    other=RateLimit(burst=200, per_second=50),
)

BY_NAME: dict[str, ServiceSpec] = {spec.name: spec for spec in SERVICES}


def service(name: str) -> ServiceSpec:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown service {name!r}; known: {', '.join(BY_NAME)}") from None


def upstreams_of(name: str) -> tuple[ServiceSpec, ...]:
    """The services `name` is allowed to call, i.e. those that list it as a caller."""
    return tuple(spec for spec in SERVICES if name in spec.callers)


def identities() -> tuple[str, ...]:
    """Every mesh identity that needs a certificate."""
    return (EDGE, *(spec.name for spec in SERVICES))
