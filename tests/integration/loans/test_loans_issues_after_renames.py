"""An issue made at once after the catalog renamed the copy's item type, against a real Postgres and NATS (finding
NF1): the catalog's copy has the new code while the rename's ItemTypeChanged is still on its way to the durable
loans-item-types. Every such loan, of many, is lent by the type's own rule (the rename followed first), never by
the "*" default; a rule cache in the issuing process does not hide the rename either. A rename whose event an older
loans process took (re-keying the rules, recording nothing: finding U1) is recorded by the first issue after it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial

import pytest
import sqlalchemy as sa
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp
from jetstream_durables import start_at_new_messages
from loans_world import DESK, World, relaying, running

from athenaeum.catalog.v1 import catalog_pb2
from athenaeum.catalog.v1 import events_pb2 as catalog_events
from services.loans.api import events
from services.loans.app import following_item_types
from services.loans.app.issuing import IssueLoan
from services.loans.app.returning import ReturnLoan
from services.loans.data.item_type_feed import ITEM_TYPE_CHANGED, ITEM_TYPES, ItemTypesConsumer
from services.loans.data.rule_cache import RuleCache
from services.loans.data.tables import item_type_renames
from services.loans.data.unit_of_work import SqlLoansUnitOfWork
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.engine import session_factory
from services.support.runtime.messaging import NatsLink

pytestmark = pytest.mark.integration
TRIES = 10


@pytest.fixture
async def link(world: World, nats: str) -> AsyncIterator[NatsLink]:
    async with relaying(world, nats, "loans-issues-after-renames") as (link, _):
        yield link


def _renamed(old: str, new: str, at: datetime) -> bytes:
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return catalog_events.ItemTypeChanged(
        event_id=str(uuid.uuid4()),
        occur_time=stamp,
        item_type=catalog_pb2.ItemType(code=new, description=new),
        update_mask=FieldMask(paths=["code"]),
        previous_values={"code": old},
    ).SerializeToString()


async def test_every_issue_at_once_after_a_rename_is_lent_by_the_renamed_types_rule(
    world: World, link: NatsLink
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    codes = (f"C{tag}", f"D{tag}")
    rule = CirculationRule.create(RuleTerms("*", codes[0], loan_period_days=3), now=world.clock.now())
    async with world.uow() as uow:
        await uow.rules.add(rule)
        await uow.commit()
    # The issuing process keeps the matrix (no feed drops it here): the consumer's commit is another process's.
    cache = RuleCache(ttl_seconds=600)
    desk = replace(
        world,
        new_uow=partial(
            SqlLoansUnitOfWork, session_factory(world.engine), encode=events.encoder(UTC), rule_cache=cache
        ),
    )
    _book, (copy,) = world.catalog.add_book(item_type=codes[0])
    barcode = world.catalog.barcode(copy)
    consumer = ItemTypesConsumer(
        link, world.uow, world.clock, world.catalog, spec=replace(ITEM_TYPES, durable=f"loans-ir-{tag}")
    )
    # Not the other tests' item type changes on the session's catalog stream: one at a time, a transaction
    # each, they would stand before this test's own.
    await start_at_new_messages(link.jetstream(), consumer.spec)
    task = await running(consumer)
    try:
        for attempt in range(TRIES):
            old, new = codes if attempt % 2 == 0 else codes[::-1]
            before = await desk.issue(IssueLoan("users/p1", barcode=barcode, actor=DESK))  # the matrix cached
            assert before.rule == rule.name
            await desk.return_loan(ReturnLoan(loan_id=before.id, actor=DESK))
            renamed_at = datetime.now(UTC)  # the catalog's clock (after loans migration 0022 ran)
            world.catalog.rename_item_type(old, new, at=renamed_at)
            publishing = link.jetstream().publish(ITEM_TYPE_CHANGED, _renamed(old, new, renamed_at))
            loan, _ = await asyncio.gather(desk.issue(IssueLoan("users/p1", barcode=barcode, actor=DESK)), publishing)
            assert (loan.item_type, loan.rule) == (new, rule.name), f"try {attempt}: lent by {loan.rule}"
            assert loan.terms is not None and loan.terms.loan_period_days == 3
            await desk.return_loan(ReturnLoan(loan_id=loan.id, actor=DESK))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_rename_an_older_loans_process_followed_unrecorded_is_recorded_and_the_copy_lent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(following_item_types, "RULES_FOLLOW_WAIT_SECONDS", 0.2)
    rule = CirculationRule.create(RuleTerms("*", "JOURNAL", loan_period_days=3), now=world.clock.now())
    async with world.uow() as uow:  # keyed by the new code, as that process left it; no item_type_renames row
        await uow.rules.add(rule)
        await uow.commit()
    _book, (copy,) = world.catalog.add_book(item_type="SERIAL")
    renamed_at = datetime.now(UTC)  # after loans migration 0023's "*" row
    world.catalog.rename_item_type("SERIAL", "JOURNAL", at=renamed_at)
    loan = await world.issue(IssueLoan("users/p1", barcode=world.catalog.barcode(copy), actor=DESK))
    assert (loan.item_type, loan.rule) == ("JOURNAL", rule.name)
    assert loan.terms is not None and loan.terms.loan_period_days == 3
    async with world.engine.connect() as connection:
        recorded = (await connection.execute(sa.select(item_type_renames.c.code, item_type_renames.c.renamed_at))).all()
    assert ("JOURNAL", renamed_at) in [tuple(row) for row in recorded]
