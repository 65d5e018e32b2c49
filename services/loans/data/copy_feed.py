"""The catalog's copy changes in: a copy set aside for a hold that a cataloguer moves (another shelf, call
number) is described so on the pull list and the hold shelf, where staff look for it (app/describing.py).
Only CopyUpdated is read; redelivered or late events change nothing (the copy's version orders them), so the
consumer keeps no record of the event ids it handled."""

from __future__ import annotations

import logging
from collections.abc import Callable

from google.protobuf.message import DecodeError
from nats.aio.msg import Msg

from athenaeum.catalog.v1 import events_pb2 as catalog_events
from services.loans.app.describing import follow_copy
from services.loans.app.ports import LoansUnitOfWork
from services.loans.data.peers import copy_info
from services.support.runtime.consumers import DurableConsumer
from services.support.runtime.messaging import ConsumerSpec, NatsLink, stream_name
from services.support.runtime.wire import event_subject

log = logging.getLogger("athenaeum.loans.copies")
COPY_UPDATED = event_subject("catalog", catalog_events.CopyUpdated())
COPIES = ConsumerSpec(stream=stream_name("catalog"), durable="loans-copies", filter_subject=COPY_UPDATED)


async def follow_copy_change(data: bytes, *, uow: LoansUnitOfWork) -> int:
    """Describe again the holds the copy of a CopyUpdated payload is set aside for; how many changed (0 for a
    payload that does not decode: no retry would make it readable)."""
    try:
        event = catalog_events.CopyUpdated.FromString(data)
    except DecodeError:
        log.error("an unreadable %s was skipped", COPY_UPDATED)
        return 0
    if not event.copy.name:
        return 0
    return await follow_copy(copy_info(event.copy), uow=uow)


class CopiesConsumer(DurableConsumer):
    """The durable consumer of the catalog's copy changes (each acked after its holds' commit)."""

    def __init__(self, link: NatsLink, uow: Callable[[], LoansUnitOfWork], spec: ConsumerSpec = COPIES) -> None:
        super().__init__(link, spec, self._keep)
        self._uow = uow

    async def _keep(self, message: Msg) -> None:
        await follow_copy_change(message.data, uow=self._uow())
