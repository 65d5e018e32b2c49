"""The catalog's item type changes in: a type renamed (an ItemTypeChanged whose update_mask has "code", the old
code in previous_values) re-keys the circulation rules that name it; a type deleted deletes them
(app/following_item_types.py). Other changes of a type (its description, not_for_loan) touch no rule."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime

from google.protobuf.message import DecodeError
from nats.aio.msg import Msg

from athenaeum.catalog.v1 import events_pb2 as catalog_events
from services.loans.app.following_item_types import (
    ItemTypeDeleted,
    ItemTypeRenamed,
    follow_item_type_deletion,
    follow_item_type_rename,
)
from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.codes import spelt_code
from services.loans.domain.rule_keys import RulesFollowed
from services.support.runtime.clock import Clock
from services.support.runtime.consumers import DurableConsumer
from services.support.runtime.messaging import ConsumerSpec, NatsLink, stream_name
from services.support.runtime.wire import event_subject, to_datetime

log = logging.getLogger("athenaeum.loans.item_types")
ITEM_TYPE_CHANGED = event_subject("catalog", catalog_events.ItemTypeChanged())
# One at a time, in the stream's order, a retried one before the next: a type renamed and renamed back must be
# followed in that order. A fetch of one (not of a batch, which the server could fill only one message at a
# time, each after the fetch's wait) returns as soon as its message comes.
ITEM_TYPES = ConsumerSpec(
    stream=stream_name("catalog"),
    durable="loans-item-types",
    filter_subject=ITEM_TYPE_CHANGED,
    batch=1,
    max_ack_pending=1,
)


def command_of(data: bytes) -> ItemTypeRenamed | ItemTypeDeleted | None:
    """What an ItemTypeChanged payload asks of the rules: a rename, a deletion, or nothing (another change, or
    a payload that does not decode: no retry would make it readable)."""
    try:
        event = catalog_events.ItemTypeChanged.FromString(data)
        event_id = uuid.UUID(event.event_id)
    except (DecodeError, ValueError):
        log.error("an unreadable %s was skipped", ITEM_TYPE_CHANGED)
        return None
    code = spelt_code(event.item_type.code)
    if not code:
        return None
    if event.deleted:
        return ItemTypeDeleted(event_id, code, deleted_at=_occurred(event))
    old = spelt_code(event.previous_values.get("code", ""))
    if "code" in event.update_mask.paths and old and old != code:
        return ItemTypeRenamed(event_id, old, code, renamed_at=_occurred(event))
    return None


def _occurred(event: catalog_events.ItemTypeChanged) -> datetime:
    return to_datetime(event.occur_time)


async def follow_item_type_change(
    data: bytes, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog
) -> RulesFollowed:
    """Follow one ItemTypeChanged payload with the rules (what it changed: nothing for other changes)."""
    match command_of(data):
        case ItemTypeRenamed() as renamed:
            return await follow_item_type_rename(renamed, uow=uow, clock=clock)
        case ItemTypeDeleted() as deleted:
            return await follow_item_type_deletion(deleted, uow=uow, clock=clock, catalog=catalog)
    return RulesFollowed()


class ItemTypesConsumer(DurableConsumer):
    """The durable consumer of the catalog's item type changes (each acked after the rules' commit)."""

    def __init__(
        self,
        link: NatsLink,
        uow: Callable[[], LoansUnitOfWork],
        clock: Clock,
        catalog: Catalog,
        spec: ConsumerSpec = ITEM_TYPES,
    ) -> None:
        super().__init__(link, spec, self._keep)
        self._uow = uow
        self._clock = clock
        self._catalog = catalog  # a deletion asks whether the code is listed again

    async def _keep(self, message: Msg) -> None:
        await follow_item_type_change(message.data, uow=self._uow(), clock=self._clock, catalog=self._catalog)
