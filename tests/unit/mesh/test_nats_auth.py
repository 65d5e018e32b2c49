"""What each service's NATS user may publish, read and subscribe to (mesh/nats_auth.py), and that the registry
names every durable consumer, extra stream and stream read that the services really use."""

from __future__ import annotations

from services.events.api.consumers import AUDIT_DURABLE, audit_specs
from services.events.data.journal import INGEST_STREAM, INGEST_SUBJECT
from services.events.main import STORE_DURABLE
from services.loans.api.users_feed import ACCOUNTS
from services.loans.data.copy_feed import COPIES
from services.loans.data.item_type_feed import ITEM_TYPES
from services.notifications.api.consumers import CATALOG, LOANS, USERS
from services.support.mesh import nats_auth, registry
from services.support.runtime.messaging import CONTEXTS


def test_a_service_may_publish_the_events_of_its_own_context_only() -> None:
    for spec in registry.SERVICES:
        allowed = nats_auth.publish_allowed(spec)
        events = [subject for subject in allowed if subject.startswith("athenaeum.")]
        assert events == [f"athenaeum.{spec.name}.>", "athenaeum.dlq.>"], spec.name
        streams = {s.rsplit(".", 1)[1] for s in allowed if s.startswith("$JS.API.STREAM.UPDATE.")}
        assert streams == set(nats_auth.own_streams(spec)), spec.name
        creates = {s.rsplit(".", 1)[1] for s in allowed if s.startswith("$JS.API.STREAM.CREATE.")}
        contexts = {f"ATHENAEUM_{other.name.upper()}" for other in registry.SERVICES}
        assert creates == {*nats_auth.own_streams(spec), *contexts, "ATHENAEUM_DLQ"}  # none of its choosing
        assert not {">", "$JS.>", "$JS.API.>", "$JS.ACK.>"} & set(allowed)


def test_the_durables_of_a_service_are_its_own() -> None:
    loans, notifications = registry.service("loans"), registry.service("notifications")
    assert "$JS.ACK.*.loans-patrons.>" in nats_auth.publish_allowed(loans)
    assert not [s for s in nats_auth.publish_allowed(notifications) if "loans-patrons" in s]
    denied = nats_auth.publish_denied(notifications)
    assert "$JS.API.CONSUMER.DELETE.*.loans-patrons" in denied
    assert "$JS.API.CONSUMER.MSG.NEXT.*.loans-patrons" in denied
    assert not [s for s in denied if "notifications-" in s]  # its own are not denied to it


def test_the_registry_names_the_durables_and_streams_the_services_use() -> None:
    assert registry.service("loans").durables == (ACCOUNTS.durable, COPIES.durable, ITEM_TYPES.durable)
    assert COPIES.stream == ITEM_TYPES.stream == "ATHENAEUM_CATALOG" and "catalog" in registry.service("loans").reads
    assert registry.service("notifications").durables == (LOANS.durable, USERS.durable, CATALOG.durable)
    assert set(registry.service("events").durables) == {AUDIT_DURABLE, STORE_DURABLE}
    assert registry.service("events").streams == ((INGEST_STREAM, INGEST_SUBJECT),)
    assert {spec.name for spec in registry.SERVICES} == set(CONTEXTS)


def test_a_service_reads_only_the_streams_it_consumes() -> None:
    catalog, notifications = registry.service("catalog"), registry.service("notifications")
    denied = nats_auth.publish_denied(catalog)
    for stream in ("ATHENAEUM_LOANS", "ATHENAEUM_NOTIFICATIONS", "ATHENAEUM_EVENTS", "EVENTS_INGEST", "ATHENAEUM_DLQ"):
        assert f"$JS.API.CONSUMER.CREATE.{stream}" in denied
        assert f"$JS.API.CONSUMER.CREATE.{stream}.>" in denied
        assert f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.>" in denied
        assert f"$JS.API.CONSUMER.MSG.NEXT.{stream}.>" in denied
    reading_users = ("$JS.API.CONSUMER.CREATE.ATHENAEUM_USERS", "$JS.API.CONSUMER.MSG.NEXT.ATHENAEUM_USERS")
    assert not [s for s in denied if s.startswith(reading_users)]  # it follows the revoked sessions
    assert not [s for s in nats_auth.publish_denied(notifications) if s.endswith("ATHENAEUM_LOANS.>")]
    assert not [s for s in nats_auth.publish_denied(notifications) if s.endswith("ATHENAEUM_CATALOG.>")]  # new books
    for spec in registry.SERVICES:  # nobody reads the dead letters but the operator, nor reads messages directly
        assert "ATHENAEUM_DLQ" not in nats_auth.readable_streams(spec)
        assert not [s for s in nats_auth.publish_allowed(spec) if ".DIRECT." in s or ".MSG.GET." in s]


def test_a_service_subscribes_to_its_own_replies_only() -> None:
    for spec in registry.SERVICES:
        allowed = nats_auth.subscribe_allowed(spec)
        expected = [f"_INBOX.{spec.name}.>", *(("athenaeum.>", INGEST_SUBJECT) if spec.name == "events" else ())]
        assert allowed == expected, spec.name


def test_each_service_may_read_the_streams_its_consumers_read() -> None:
    def readable(service: str) -> set[str]:
        return set(nats_auth.readable_streams(registry.service(service)))

    assert ACCOUNTS.stream in readable("loans")
    assert {LOANS.stream, USERS.stream} <= readable("notifications")
    assert {spec.stream for spec in audit_specs(batch=1)} | {INGEST_STREAM} <= readable("events")
    assert all("ATHENAEUM_USERS" in readable(spec.name) for spec in registry.SERVICES)  # revoked sessions


def test_a_service_fetches_only_from_its_own_durables() -> None:
    for spec in registry.SERVICES:
        fetches = [s for s in nats_auth.publish_allowed(spec) if ".MSG.NEXT." in s]
        assert fetches == [f"$JS.API.CONSUMER.MSG.NEXT.*.{durable}" for durable in spec.durables], spec.name
        assert not [s for s in nats_auth.publish_allowed(spec) if s.startswith("$JS.API.CONSUMER.>")]


def test_a_service_deletes_only_its_own_durables() -> None:
    """Not another's follower either: an ephemeral consumer's name is one token no rule could match by owner,
    so no service deletes a consumer it does not own (the server drops a follower's when it goes away)."""
    for spec in registry.SERVICES:
        deletes = [s for s in nats_auth.publish_allowed(spec) if ".DELETE." in s or s.endswith(".DELETE.>")]
        assert deletes == [f"$JS.API.CONSUMER.DELETE.*.{durable}" for durable in spec.durables], spec.name


def test_no_service_may_list_the_consumers_and_learn_where_the_others_followers_read() -> None:
    """A consumer's config names its deliver subject: listing them would tell every follower's inbox, where any
    consumer's deliveries can be aimed (NATS does not check a deliver subject against the creator's rights)."""
    for spec in registry.SERVICES:
        allowed = nats_auth.publish_allowed(spec)
        assert not [s for s in allowed if s.startswith(("$JS.API.CONSUMER.LIST", "$JS.API.CONSUMER.NAMES"))]
        assert "$JS.API.CONSUMER.INFO.>" in allowed  # its own consumers' info, by name
