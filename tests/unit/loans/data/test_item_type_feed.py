"""The catalog's ItemTypeChanged, as it comes off the wire: a rename or a deletion for the rules, else nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp

from athenaeum.catalog.v1 import catalog_pb2
from athenaeum.catalog.v1 import events_pb2 as catalog_events
from services.loans.app.following_item_types import ItemTypeDeleted, ItemTypeRenamed
from services.loans.data.item_type_feed import command_of

EVENT = uuid.uuid4()
WHEN = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def changed(
    code: str, *, paths: tuple[str, ...] = (), previous: dict[str, str] | None = None, deleted: bool = False
) -> bytes:
    stamp = Timestamp()
    stamp.FromDatetime(WHEN)
    return catalog_events.ItemTypeChanged(
        event_id=str(EVENT),
        occur_time=stamp,
        item_type=catalog_pb2.ItemType(name=f"itemTypes/{code}", code=code, description="x"),
        deleted=deleted,
        update_mask=FieldMask(paths=list(paths)),
        previous_values=previous or {},
    ).SerializeToString()


def test_a_rename_names_the_old_code_from_previous_values_and_when_it_was_made() -> None:
    assert command_of(changed("DVD", paths=("code",), previous={"code": "DVD/CD"})) == ItemTypeRenamed(
        EVENT, "DVD/CD", "DVD", renamed_at=WHEN
    )


def test_a_deletion_carries_when_it_happened() -> None:
    assert command_of(changed("DVD", deleted=True)) == ItemTypeDeleted(EVENT, "DVD", deleted_at=WHEN)


def test_other_changes_and_unreadable_payloads_ask_nothing() -> None:
    assert command_of(changed("DVD")) is None  # created
    assert command_of(changed("DVD", paths=("not_for_loan",), previous={"not_for_loan": "false"})) is None
    assert command_of(changed("DVD", paths=("code",))) is None  # no old code to follow
    assert command_of(b"\xff not a proto") is None
