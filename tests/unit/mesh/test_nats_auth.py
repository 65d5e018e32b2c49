"""What each service's NATS user may publish (mesh/nats_auth.py), and that the registry names every durable
consumer and extra stream the services really use."""

from __future__ import annotations

from services.events.api.consumers import AUDIT_DURABLE
from services.events.data.journal import INGEST_STREAM, INGEST_SUBJECT
from services.events.main import STORE_DURABLE
from services.loans.api.users_feed import ACCOUNTS
from services.notifications.api.consumers import LOANS, USERS
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
    assert registry.service("loans").durables == (ACCOUNTS.durable,)
    assert registry.service("notifications").durables == (LOANS.durable, USERS.durable)
    assert set(registry.service("events").durables) == {AUDIT_DURABLE, STORE_DURABLE}
    assert registry.service("events").streams == ((INGEST_STREAM, INGEST_SUBJECT),)
    assert {spec.name for spec in registry.SERVICES} == set(CONTEXTS)
