"""The circulation rules follow the catalog's item types against a real Postgres and NATS: the durable
loans-item-types reads ItemTypeChanged off the catalog stream, re-keys a renamed type's rules (the new code's
kept where a category had both, in one transaction under the table's unique key), deletes a deleted type's,
acts once per event however often it is delivered, and leaves each change on the outbox with its note."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp
from jetstream_durables import start_at_new_messages
from loans_world import World, relaying, running

from athenaeum.catalog.v1 import catalog_pb2
from athenaeum.catalog.v1 import events_pb2 as catalog_events
from athenaeum.loans.v1 import events_pb2 as loans_events
from services.loans.data.item_type_feed import ITEM_TYPE_CHANGED, ITEM_TYPES, ItemTypesConsumer
from services.loans.data.tables import circulation_rules
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.messaging import NatsLink
from services.support.runtime.outbox import OUTBOX

pytestmark = pytest.mark.integration


@pytest.fixture
async def link(world: World, nats: str) -> AsyncIterator[NatsLink]:
    async with relaying(world, nats, "loans-item-types-test") as (link, _):
        yield link


async def _store(world: World, category: str, item_type: str, *, at: datetime) -> None:
    async with world.uow() as uow:
        rule = CirculationRule.create(
            RuleTerms(category, item_type, loan_period_days=3), now=at, listed_item_type=item_type
        )
        await uow.rules.add(rule)
        await uow.commit()


async def _publish(link: NatsLink, event: catalog_events.ItemTypeChanged) -> None:
    await link.jetstream().publish(ITEM_TYPE_CHANGED, event.SerializeToString())


def _changed(code: str, at: datetime, **fields: object) -> catalog_events.ItemTypeChanged:
    stamp = Timestamp()
    stamp.FromDatetime(at)
    kind = catalog_pb2.ItemType(code=code, description=code)
    return catalog_events.ItemTypeChanged(event_id=str(uuid.uuid4()), occur_time=stamp, item_type=kind, **fields)


async def _keys(world: World) -> set[tuple[str, str]]:
    async with world.engine.connect() as connection:
        rows = await connection.execute(sa.select(circulation_rules.c.patron_category, circulation_rules.c.item_type))
        return {(row.patron_category, row.item_type) for row in rows}


async def _until(world: World, expected: set[tuple[str, str]]) -> None:
    deadline = time.monotonic() + 15
    while (found := await _keys(world)) != expected:
        assert time.monotonic() < deadline, found
        await asyncio.sleep(0.1)


async def _notes(world: World) -> list[str]:
    async with world.engine.connect() as connection:
        rows = await connection.execute(
            sa.select(OUTBOX.c.payload)
            .where(OUTBOX.c.subject.like("%.circulation_rule_changed.%"))
            .order_by(OUTBOX.c.seq)
        )
        return [loans_events.CirculationRuleChanged.FromString(row.payload).note for row in rows]


async def test_rules_follow_a_rename_and_a_deletion_off_the_catalog_stream(world: World, link: NatsLink) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    old, new, gone = f"DVD/CD {tag}", f"DVD_{tag}", f"GONE_{tag}"
    made = world.clock.now() - timedelta(days=1)
    for category, item_type in (("*", old), ("STUDENT", old), ("*", new), ("*", gone)):
        await _store(world, category, item_type, at=made)
    notes_before = len(await _notes(world))
    consumer = ItemTypesConsumer(
        link, world.uow, world.clock, world.catalog, spec=replace(ITEM_TYPES, durable=f"loans-it-{tag}")
    )
    # Not the other tests' item type changes on the session's catalog stream: one at a time, a transaction
    # each, they would stand before this test's own.
    await start_at_new_messages(link.jetstream(), consumer.spec)
    task = await running(consumer)
    try:
        renamed = _changed(new, made, update_mask=FieldMask(paths=["code"]), previous_values={"code": old})
        await _publish(link, renamed)
        await _publish(link, _changed(gone, world.clock.now(), deleted=True))
        await _until(world, {("*", "*"), ("*", new), ("STUDENT", new)})
        notes = (await _notes(world))[notes_before:]
        assert sorted(notes) == sorted(
            [
                f"item type {old} renamed {new} in the catalog",
                f"item type {old} renamed {new} in the catalog; a rule for */{new} already exists and is kept: "
                f"this one, for */{old}, is deleted",
                f"item type {gone} deleted from the catalog",
            ]
        )
        await _publish(link, renamed)  # delivered again: nothing more
        await _publish(link, _changed(gone, world.clock.now()))  # a creation: nothing
        await asyncio.sleep(1)
        assert len(await _notes(world)) == notes_before + 3
        assert await _keys(world) == {("*", "*"), ("*", new), ("STUDENT", new)}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
