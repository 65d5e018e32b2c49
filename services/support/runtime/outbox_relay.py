"""The outbox relay: publishes the rows a service's transactions wrote to the outbox (outbox.py) to
JetStream, oldest first, and marks them published.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from nats.js import JetStreamContext
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine

from services.support.runtime.driver import DriverConnection, DriverStatement
from services.support.runtime.messaging import EVENT_TYPE_HEADER, NatsLink, stream_of
from services.support.runtime.outbox import OUTBOX
from services.support.runtime.retrying import retry_forever
from services.support.runtime.telemetry import OUTBOX_BACKLOG, OUTBOX_PUBLISHED, OUTBOX_UNPUBLISHABLE
from services.support.runtime.tracing import publishing

log = logging.getLogger("athenaeum.outbox")

# Built once: the relay runs these at every poll of every service. A batch is taken by leasing it, in
# autocommit: the rows are the taker's until the lease ends, and marked published once JetStream has them (a
# relay that dies meanwhile leaves them to the next after its lease; JetStream drops a message it already has).
# A batch's marks wait a moment for the next take, which writes them in its own statement: under load one
# round trip per batch, where a transaction holding the rows locked while they were published took three
# (BEGIN, the take, COMMIT); a batch is often one commit's events.
RELAY_LEASE_SECONDS = 10.0
"""How long a batch is its relay's: far longer than publishing it takes, far shorter than JetStream's window
for dropping a message it already has (`DUPLICATE_WINDOW_SECONDS`)."""
HEADERS_ROOM = 16 * 1024
"""Bytes of a NATS message left for the headers (a trace, the actor, the type, the message id)."""
MARK_LINGER_SECONDS = 0.02
"""How long a published batch's marks wait for the next take before they are written by themselves."""
_NEXT_UNPUBLISHED = (
    sa.select(OUTBOX.c.seq)
    .where(
        OUTBOX.c.published_at.is_(None),
        sa.or_(OUTBOX.c.relay_lease_until.is_(None), OUTBOX.c.relay_lease_until < sa.func.now()),
    )
    .order_by(OUTBOX.c.seq)
    .limit(sa.bindparam("batch", type_=sa.Integer))
    .with_for_update(skip_locked=True)
)
_TAKEN = OUTBOX.c.seq == sa.func.any(sa.bindparam("seqs", type_=ARRAY(sa.BigInteger)))
_MARK_ROWS = sa.update(OUTBOX).where(_TAKEN).values(published_at=sa.func.now(), relay_lease_until=None)
_MARK = DriverStatement(_MARK_ROWS)
# The take marks the batch published before it (its rows are still the relay's, so it takes none of them).
_TAKE = DriverStatement(
    sa.update(OUTBOX)
    .where(OUTBOX.c.seq.in_(_NEXT_UNPUBLISHED.scalar_subquery()))
    .values(relay_lease_until=sa.func.now() + sa.bindparam("lease", type_=sa.Interval))
    .returning(
        OUTBOX.c.seq, OUTBOX.c.event_id, OUTBOX.c.subject, OUTBOX.c.event_type, OUTBOX.c.payload, OUTBOX.c.headers
    )
    .add_cte(_MARK_ROWS.cte("marked"))
)
"""Run by the driver: SQLAlchemy's connection and result machinery around it cost the catalog more CPU than
the statement's round trip (~7 % of its samples during the loan cycles)."""
_GIVE_BACK = DriverStatement(
    sa.update(OUTBOX).where(_TAKEN, OUTBOX.c.published_at.is_(None)).values(relay_lease_until=None)
)
_BACKLOG = sa.select(sa.func.count()).select_from(OUTBOX).where(OUTBOX.c.published_at.is_(None))
_NEWEST = sa.select(sa.func.max(OUTBOX.c.seq))
_UNPUBLISHED_UP_TO = sa.select(
    sa.exists().where(OUTBOX.c.published_at.is_(None), OUTBOX.c.seq <= sa.bindparam("newest", type_=sa.BigInteger))
)


class UnexpectedAcknowledgement(Exception):
    """A publish acknowledged by a stream other than the one its subject belongs to: not published."""


class OutboxRelay:
    """Publishes committed outbox rows to JetStream, oldest first, and marks them published.

    Several processes of one service may relay at once: each takes rows nobody holds a lease on (`FOR UPDATE
    SKIP LOCKED` while it leases them), so each publishes its own.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        nats: NatsLink,
        *,
        poll_seconds: float = 0.5,
        batch_size: int = 256,
        lease_seconds: float = RELAY_LEASE_SECONDS,
        mark_linger: float = MARK_LINGER_SECONDS,
    ) -> None:
        self._engine = engine
        self._nats = nats
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._lease_seconds = lease_seconds
        self._mark_linger = mark_linger
        self._wakeup = asyncio.Event()
        self._published: list[int] = []
        """Rows JetStream has, to be marked published by the next take or `mark_published`."""

    def wake(self) -> None:
        """Called after a commit that wrote events, so they leave now rather than at the next poll."""
        self._wakeup.set()

    async def run(self) -> None:
        while True:
            # NATS or Postgres away: the rows stay, the relay tries again (the gauge matters most meanwhile).
            await retry_forever(
                self._drain,
                what="outbox relay",
                first=self._poll_seconds,
                on_failure=self._report_backlog,
                wake=self._wakeup,  # a commit tries again at once, as it would without a failure
            )
            OUTBOX_BACKLOG.set(0)  # drained (rows another process holds are on their way too)
            if self._published and not await self._woken(within=self._mark_linger):
                await retry_forever(self.mark_published, what="outbox marks", first=self._poll_seconds)
            if not self._wakeup.is_set():
                await self._woken(within=self._poll_seconds)
            self._wakeup.clear()

    async def _woken(self, *, within: float) -> bool:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await self._wakeup.wait()
        return self._wakeup.is_set()

    async def _drain(self) -> None:
        while await self.relay_once() == self._batch_size:
            pass

    async def _report_backlog(self) -> None:
        with contextlib.suppress(Exception):
            await self.backlog()

    async def relay_once(self) -> int:
        """Publish one batch; returns how many rows it published. The batch is leased (by the statement that
        marks the batch published before it), published, and left to be marked; a failed publish, or a
        cancellation, gives the rows back at once (or, if even that fails, when the lease ends)."""
        js = self._nats.jetstream()
        limit = self._nats.client().max_payload - HEADERS_ROOM
        connection = DriverConnection(self._engine, transactional=False)
        marks, self._published = self._published, []
        try:
            try:
                lease = timedelta(seconds=self._lease_seconds)
                taken = await _TAKE.fetch(await connection.get(), batch=self._batch_size, lease=lease, seqs=marks)
            except BaseException:
                self._published[:0] = marks  # not marked: the next statement carries them
                raise
            rows = sorted(taken, key=lambda row: row["seq"])
            if not rows:
                return 0
            rows, too_large = _fitting(rows, limit)
            seqs = [row["seq"] for row in rows]
            try:
                await asyncio.gather(*(self._publish(js, row) for row in rows))  # written out in seq order
            except BaseException:
                with contextlib.suppress(Exception):
                    await _GIVE_BACK.execute(await connection.get(), seqs=seqs)
                raise
            self._published.extend([*seqs, *too_large])
        finally:
            await connection.close()
        OUTBOX_PUBLISHED.inc(len(rows))
        return len(rows) + len(too_large)

    async def mark_published(self) -> None:
        """Mark the rows published that JetStream has and no take has marked yet (the service also calls it
        when it stops)."""
        marks, self._published = self._published, []
        if not marks:
            return
        connection = DriverConnection(self._engine, transactional=False)
        try:
            await _MARK.execute(await connection.get(), seqs=marks)
        except BaseException:
            self._published[:0] = marks
            raise
        finally:
            await connection.close()

    @staticmethod
    async def _publish(js: JetStreamContext, row: Any) -> None:
        event_id = str(row["event_id"])
        headers = {**row["headers"], "Nats-Msg-Id": event_id, EVENT_TYPE_HEADER: row["event_type"]}
        with publishing(row["subject"], message_id=event_id, headers=headers) as traced_headers:
            ack = await js.publish(row["subject"], row["payload"], headers=traced_headers)
        expected = stream_of(row["subject"])
        if expected is not None and ack.stream != expected:
            # Whoever answered is not the JetStream that keeps this subject (a stand-in on NATS's port): the row
            # stays unpublished, to be sent again, rather than marked published and lost for good.
            log.error("outbox: %s was acknowledged by stream %r, not %s", row["subject"], ack.stream, expected)
            raise UnexpectedAcknowledgement(f"{row['subject']} acknowledged by {ack.stream!r}, not {expected}")

    async def wait_published(self, *, within: float) -> bool:
        """Wait until every event committed before the call is in JetStream, relayed by this process or
        another; False if that takes longer than `within` seconds (NATS away). For a change other services must
        know of before it is confirmed (a projection of it must not be behind what its caller was told)."""
        return await wait_published(self._engine, within=within, wake=self.wake)

    async def backlog(self) -> int:
        """Rows not yet published (a metric and a test hook)."""
        async with self._engine.connect() as connection:
            count = await connection.scalar(_BACKLOG)
        OUTBOX_BACKLOG.set(int(count or 0))
        return int(count or 0)


async def wait_published(engine: AsyncEngine, *, within: float, wake: Callable[[], None] = lambda: None) -> bool:
    """Wait until every event committed to `engine`'s outbox before the call is in JetStream; False if that takes
    longer than `within` seconds. Without a relay of its own (an operator command), a running service's relay
    publishes them at its next poll (`outbox_poll_seconds`); `wake` is the caller's own relay, woken to do it."""
    async with engine.connect() as connection:
        newest = await connection.scalar(_NEWEST)
        if newest is None:
            return True
        wake()
        deadline = asyncio.get_running_loop().time() + within
        pause = 0.002
        while await connection.scalar(_UNPUBLISHED_UP_TO, {"newest": newest}):
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await connection.rollback()  # no transaction left open while it waits
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.1)
            wake()  # published meanwhile: the next take marks it, without waiting out the linger
    return True


def _fitting(rows: list[Any], limit: int) -> tuple[list[Any], list[int]]:
    """The rows a NATS message can carry, and the seqs of those it cannot. One too large would be given
    back and taken first again for ever, and no event after it would leave: it is set aside (marked, kept
    in the table for a week, logged and counted) while the rest go on."""
    fitting = [row for row in rows if len(row["payload"]) <= limit]
    too_large = [row for row in rows if len(row["payload"]) > limit]
    for row in too_large:
        OUTBOX_UNPUBLISHABLE.inc()
        log.error(
            "outbox event %s (%s, %d bytes) is larger than a NATS message may be: set aside, not published",
            row["event_id"], row["subject"], len(row["payload"]),
        )  # fmt: skip
    return fitting, [row["seq"] for row in too_large]
