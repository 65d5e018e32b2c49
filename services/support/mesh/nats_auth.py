"""Each service's own NATS user: what it may publish (the domain events of its own context only) and read.

NATS is the one place where the mesh's identities did not reach: with one shared secret, any service could
publish any other's events (a forged account change would make loans lend to a blocked patron). Each service
now signs in as itself (user = its name), and may publish:

- its context's events (`athenaeum.<name>.>`), the subjects of its own extra streams, and dead letters;
- to the JetStream API: change only its own streams, and make no stream but the contexts' and the dead
  letters' (so none can make one that republishes into another's subjects; one made missing has the config
  every service knows, and its owner's next start updates it to its own); read any stream's info; work with
  consumers by name (not list them), except the durables another service owns (registry.ServiceSpec.durables):
  those it may not make or delete; fetch only from its own durables (its followers' messages are pushed to its
  own inbox, so no service can take another's by fetching them);
- acknowledgements only for the durables it owns (an acknowledgement skips a message for good).

What permissions cannot do: a consumer's `deliver_subject` (and a fetch's reply subject) is where the *server*
then delivers the stream's messages, and NATS never checks the creator's rights on it (they see a request's
subject, not its body). So a service's user can have the messages of a stream it reads delivered into another
service's inbox, or stored in another context's stream (under their own subjects, which that stream's
consumers filter out). Two things keep that from becoming a forged event: a service may not list the
consumers (`$JS.API.CONSUMER.LIST`/`NAMES`), so it never learns the followers' inboxes (each a random name
under the owner's prefix, in a consumer's config), and a follower takes only what its own consumer delivered
from the stream it reads (runtime/followers.py). Only an account of its own per service would let the server
refuse such a delivery outright.

And it may read only the streams it consumes: its own and those of the contexts it names
(registry.ServiceSpec.reads: a loan history is the library's most private record, a users event carries an
email address), so it may make consumers and fetch on those streams only; it may subscribe only to its own
inbox (`_INBOX.<name>.>`, where its requests' answers and fetched messages come) and to the core subjects it
names (the events service's live feed), never to another service's inbox or to the events as they are
published. A stream's info, and a consumer's by its name, stay readable to all.

The operator's user (tools, tests) may do everything. The same text configures the local NATS (passwords
inline), and the chart's NATS (passwords as `$NATS_PASSWORD_<NAME>`, from its Secret).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from services.support.mesh import registry
from services.support.runtime.messaging import CONTEXTS, DLQ_STREAM, inbox_prefix, stream_config, stream_name

OPERATOR = "operator"
"""The user with every right: `athenaeum` commands and the tests."""
_CONSUMER_ACTIONS = ("CREATE.*.{d}", "CREATE.*.{d}.>", "DURABLE.CREATE.*.{d}", "DELETE.*.{d}", "MSG.NEXT.*.{d}")
_CONSUMER_API = ("INFO", "CREATE", "DURABLE.CREATE")
"""The consumer API a service uses on any stream it may read, besides fetching (`MSG.NEXT`) and deleting, which
it may do to its own durables only: its followers' messages are pushed to its own inbox, so no one can take
another's by fetching them, and a follower's consumer is left to the server to drop when it goes away (its
`inactive_threshold`), so no one may delete another's either. No listing (`NAMES`, `LIST`): no service needs
it, and it would tell the inboxes of the others' followers (their consumers' deliver subjects)."""
_OWN_DURABLE_ACTIONS = ("MSG.NEXT", "DELETE")
_READ_ACTIONS = ("CREATE.{s}", "CREATE.{s}.>", "DURABLE.CREATE.{s}.>", "MSG.NEXT.{s}.>")
"""The consumer API that reads a stream: an ephemeral or named consumer made on it, a durable, a fetch."""


_SHARED_STREAMS = (*map(stream_name, CONTEXTS), str(DLQ_STREAM.name))
"""The streams every service declares (ensure_streams): the contexts' and the dead letters'."""


def own_streams(spec: registry.ServiceSpec) -> tuple[str, ...]:
    return (stream_name(spec.name), *(name for name, _ in spec.streams))


def publish_allowed(spec: registry.ServiceSpec) -> list[str]:
    return [
        *(stream_config(spec.name).subjects or ()),
        *(subject for _, subject in spec.streams),
        *(DLQ_STREAM.subjects or ()),
        "$JS.API.INFO",
        "$JS.API.STREAM.NAMES",
        "$JS.API.STREAM.LIST",
        "$JS.API.STREAM.INFO.*",
        *(f"$JS.API.STREAM.UPDATE.{stream}" for stream in own_streams(spec)),
        *(f"$JS.API.STREAM.CREATE.{stream}" for stream in _creatable_streams(spec)),
        *(f"$JS.API.CONSUMER.{action}.>" for action in _CONSUMER_API),
        *(f"$JS.API.CONSUMER.{action}.*.{durable}" for action in _OWN_DURABLE_ACTIONS for durable in spec.durables),
        *(f"$JS.ACK.*.{durable}.>" for durable in spec.durables),
    ]


def _creatable_streams(spec: registry.ServiceSpec) -> list[str]:
    """Its own, and those ensure_streams makes when missing (with the one config every service knows; the
    owner's next update restores its own): every context's and the dead letters'."""
    return list(dict.fromkeys((*own_streams(spec), *_SHARED_STREAMS)))


def publish_denied(spec: registry.ServiceSpec) -> list[str]:
    """The consumer API on the durables other services own, and on the streams it does not read."""
    others = [durable for other in registry.SERVICES if other is not spec for durable in other.durables]
    return [
        *(f"$JS.API.CONSUMER.{action.format(d=durable)}" for durable in others for action in _CONSUMER_ACTIONS),
        *(f"$JS.API.CONSUMER.{action.format(s=stream)}" for stream in _unread(spec) for action in _READ_ACTIONS),
    ]


def readable_streams(spec: registry.ServiceSpec) -> tuple[str, ...]:
    return (*own_streams(spec), *map(stream_name, spec.reads))


def _unread(spec: registry.ServiceSpec) -> list[str]:
    """Every stream of the mesh it does not read: the other contexts', the other services' own, the dead
    letters (every service's failed messages, users events among them: the operator reads them)."""
    every = (*_SHARED_STREAMS, *(name for other in registry.SERVICES for name, _ in other.streams))
    readable = set(readable_streams(spec))
    return [stream for stream in dict.fromkeys(every) if stream not in readable]


def subscribe_allowed(spec: registry.ServiceSpec) -> list[str]:
    return [f"{inbox_prefix(spec.name)}.>", *spec.subscribes]


def password_variable(service: str) -> str:
    """The environment variable the chart's NATS reads a service's password from."""
    return f"NATS_PASSWORD_{service.upper()}"


def authorization_from_environment() -> str:
    """The users, their passwords read from the server's environment (`NATS_PASSWORD_<SERVICE>`): the
    chart's and compose's NATS, and any NATS of an operator's; and JetStream's durability."""
    return authorization({spec.name: f"${password_variable(spec.name)}" for spec in registry.SERVICES}) + DURABILITY


DURABILITY = """jetstream {
  # Every write on disk (fsync) before it is acknowledged. JetStream's default syncs every two minutes, so a
  # power cut or a crash of the machine lost what a single server had acknowledged within them: events the
  # events service answered "accepted" for, domain events whose outbox rows were marked published. The
  # command line's --jetstream and --store_dir still apply.
  sync_interval: always
}
"""


def authorization(passwords: Mapping[str, str], *, operator_password: str | None = None) -> str:
    """nats-server's `authorization` block: one user per service, with its rights, and the operator when a
    password is given. A password starting with `$` is a variable the server reads from its environment."""
    users = [_user(spec, passwords[spec.name]) for spec in registry.SERVICES]
    if operator_password is not None:
        users.append(f"    {{user: {OPERATOR}, password: {_value(operator_password)}}}")
    return "authorization {\n  users = [\n" + "\n".join(users) + "\n  ]\n}\n"


def _user(spec: registry.ServiceSpec, password: str) -> str:
    allow, deny = json.dumps(publish_allowed(spec)), json.dumps(publish_denied(spec))
    subscribe = json.dumps(subscribe_allowed(spec))
    return (
        f"    {{user: {spec.name}, password: {_value(password)},\n"
        f"     permissions: {{publish: {{allow: {allow},\n                            deny: {deny}}},\n"
        f"                  subscribe: {{allow: {subscribe}}}}}}}"
    )


def _value(password: str) -> str:
    return password if password.startswith("$") else json.dumps(password)
