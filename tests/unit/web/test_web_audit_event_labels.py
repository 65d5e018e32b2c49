"""The audit trail says every event a service publishes in words, in both languages: a type missing from the
web's dictionaries was shown as its identifier ("athenaeum.loans.loan_declared_lost"), in English on a Russian
page too (finding NF7). The types are read from the event protos, so a new event cannot be forgotten."""

from __future__ import annotations

import re
from types import ModuleType

import pytest

from athenaeum.catalog.v1 import events_pb2 as catalog_events
from athenaeum.loans.v1 import events_pb2 as loans_events
from athenaeum.notifications.v1 import events_pb2 as notifications_events
from athenaeum.users.v1 import events_pb2 as users_events
from services.events.domain.anonymizing import ANONYMIZED
from services.support.mesh.envoy_web import WEB_SOURCE
from services.support.runtime.wire import event_subject

PUBLISHED = {
    "catalog": catalog_events,
    "loans": loans_events,
    "users": users_events,
    "notifications": notifications_events,
}


def _event_types(context: str, module: ModuleType) -> set[str]:
    """athenaeum.<context>.<event> of every message of the module that is an event (it has an event_id)."""
    return {
        event_subject(context, getattr(module, name)()).removesuffix(".v1")
        for name, descriptor in module.DESCRIPTOR.message_types_by_name.items()
        if "event_id" in descriptor.fields_by_name
    }


EVENT_TYPES = sorted({ANONYMIZED}.union(*(_event_types(context, module) for context, module in PUBLISHED.items())))


def test_the_event_types_are_read_from_the_protos() -> None:
    assert {"athenaeum.loans.loan_issued", "athenaeum.catalog.item_type_changed"} <= set(EVENT_TYPES)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_event_type_has_words_on_the_audit_page(language: str) -> None:
    source = (WEB_SOURCE / "i18n" / f"{language}.js").read_text(encoding="utf-8")
    words = set(re.findall(r'^\s*"(event_type\.[^"]+)":', source, re.MULTILINE))
    assert [event for event in EVENT_TYPES if f"event_type.{event}" not in words] == []
