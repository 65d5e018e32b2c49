"""Background work: a dispatcher per channel (claim what is due, send it, record what happened). Each send
joins the trace of the event that caused it. The reminders' clock is in reminder_clock.py."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import tenacity
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Gauge, Histogram

from services.notifications.api.batching import GroupCommit
from services.notifications.app import delivering
from services.notifications.app.batching import BatchWriter
from services.notifications.app.notifying import Rules
from services.notifications.app.ports import (
    ChannelRefused,
    ChannelUnavailable,
    NotificationsUnitOfWork,
    Sender,
)
from services.notifications.domain.delivery import Failed, Outcome, Sent
from services.notifications.domain.kinds import Channel
from services.notifications.domain.notifications import Notification, Status
from services.support.runtime.clock import Clock
from services.support.runtime.retrying import retry_forever

log = logging.getLogger("athenaeum.notifications.delivery")
tracer = trace.get_tracer("athenaeum.notifications")

DELIVERED = Counter(
    "athenaeum_notifications_total", "Notifications whose delivery ended, by channel and status.", ["channel", "status"]
)
ATTEMPTS = Counter(
    "athenaeum_notification_attempts_total", "Delivery attempts, by channel and outcome.", ["channel", "outcome"]
)
LATENCY = Histogram(
    "athenaeum_notification_latency_seconds",
    "From the event that caused a notification to its SENT.",
    ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
)
CHANNEL_UP = Gauge("athenaeum_notification_channel_up", "1 while the mail server / SMS provider answers.", ["channel"])


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    worker: str
    """The claims' owner: stable across restarts of this process, distinct between processes."""
    concurrency: int = 32
    lease: timedelta = timedelta(seconds=30)
    poll_seconds: float = 1.0


class Dispatcher:
    """Delivers one channel: keeps up to `concurrency` sends in flight, records outcomes in group commits,
    and when the channel is down stops claiming and probes it with backoff until it answers."""

    def __init__(
        self,
        channel: Channel,
        sender: Sender,
        *,
        uow: Callable[[], NotificationsUnitOfWork],
        clock: Clock,
        rules: Rules,
        settings: DispatchSettings,
        writer: BatchWriter | None = None,
    ) -> None:
        self.channel = channel
        self._writer = writer
        """Words a batch's message; without it every notice goes alone (no batch window)."""
        self._sender = sender
        self._uow = uow
        self._clock = clock
        self._rules = rules
        self._settings = settings
        self._wakeup = asyncio.Event()
        self._down = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight = 0
        """Sends claimed and not yet recorded (at most `concurrency`: a claim takes no more than the free slots)."""
        self._ended = asyncio.Event()
        """Set when a send ends (its slot is free again)."""
        self._recorder: GroupCommit[delivering.Attempt, Notification] = GroupCommit(self._record, max_size=256)
        self._recording: set[uuid.UUID] = set()
        """Notifications sent whose outcome waits for the database: not sent again if their claim lapses."""
        self._sending: set[uuid.UUID] = set()
        """Notifications handed to the channel and not answered yet: their claims are kept (`_keep_claims`)."""
        CHANNEL_UP.labels(channel.value).set(1)

    def wake(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wakeup.set()

    async def run(self) -> None:
        # Postgres may be away at any moment (a restart): the loop waits for it rather than dying.
        released = await retry_forever(
            lambda: delivering.release_claims(self._claimant, uow=self._uow()), what="the notifications database"
        )
        if released:
            log.info("took back %d %s notifications held before a restart", released, self.channel)
        keeper = asyncio.create_task(self._keep_claims())
        try:
            await self._dispatch()
        finally:
            keeper.cancel()

    async def _dispatch(self) -> None:
        while True:
            if self._down.is_set():
                await self._wait_until_back()
            await self._room_for_a_claim()
            free = self._free_slots()
            claimed = await retry_forever(partial(self._claim, free), what="the notifications database")
            # One whose outcome is still being recorded here was claimed again after its lease ran out
            # during a database outage: it was sent, and the recording under way ends its claim.
            claimed = [n for n in claimed if n.id not in self._recording and n.id not in self._sending]
            messages = self._messages(claimed)
            self._in_flight += len(messages)
            for members in messages:
                task = asyncio.create_task(self._attempt(members))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            if len(messages) < free:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._settings.poll_seconds):
                        await self._wakeup.wait()
                self._wakeup.clear()

    async def _keep_claims(self) -> None:
        """Every third of a lease, extend the claims of the sends still waiting for an answer (the end of an
        email may take 10 minutes; the lease is 30 s so that a crashed process's claims come back soon)."""
        lease = self._settings.lease
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            if not self._sending:
                continue
            try:
                await delivering.extend_claims(
                    list(self._sending), worker=self._claimant, lease=lease, uow=self._uow(), clock=self._clock
                )
            except Exception:  # the database is away: try again at the next beat
                log.exception("keeping the claims of %d %s sends failed", len(self._sending), self.channel)

    async def _room_for_a_claim(self) -> None:
        """Wait until at least half the sends in flight have ended. A claim is a transaction: claiming each
        time one send ended made one per notification, and a backlog then went at the pace of the claims
        (bench/README.md); claiming half the slots at a time costs a transaction per eight or more."""
        wanted = max(1, self._settings.concurrency // 2)
        while self._free_slots() < wanted:
            self._ended.clear()
            await self._ended.wait()

    @property
    def _claimant(self) -> str:
        return f"{self._settings.worker}/{self.channel.value}"

    def _free_slots(self) -> int:
        return self._settings.concurrency - self._in_flight

    async def _claim(self, limit: int) -> list[Notification]:
        command = delivering.ClaimDue(self.channel, limit, self._claimant, self._settings.lease)
        return await delivering.claim_due(command, uow=self._uow(), clock=self._clock, rules=self._rules)

    def _messages(self, claimed: list[Notification]) -> list[list[Notification]]:
        """The claimed notifications as messages: a batch of one reader's notices together (N5), the rest alone."""
        if self._writer is None:
            return [[n] for n in claimed]
        return delivering.batched(claimed, self._rules)

    async def _attempt(self, members: list[Notification]) -> None:
        """Send one message (one notice, or a batch's) and record its outcome on each notice it names."""
        ids = {n.id for n in members}
        self._sending.update(ids)
        try:
            try:
                outcome = await self._send(members)
            finally:
                self._sending.difference_update(ids)
            recorded = await asyncio.gather(*(self._record_until_stored(n, outcome) for n in members))
            self._count(recorded, outcome)
        finally:
            self._in_flight -= 1
            self._ended.set()

    async def _record_until_stored(self, notification: Notification, outcome: Outcome | None) -> Notification:
        """Store what the channel answered, waiting for a database that is away (a restart) as long as it
        takes, the slot held meanwhile: dropped, the outcome of a message already sent was lost, its claim
        lapsed and it went out again. Only a crash of this process between the send and the record can repeat
        a send now. Each try records on a copy of the notification as it was claimed: a failed one has
        changed its copy (status, attempts) and handed its events to a transaction that did not commit."""
        claimed = copy.deepcopy(notification)

        async def record() -> Notification:
            return await self._recorder.submit(delivering.Attempt(copy.deepcopy(claimed), outcome))

        self._recording.add(notification.id)
        try:
            return await retry_forever(record, what=f"the notifications database (recording {notification.name})")
        finally:
            self._recording.discard(notification.id)

    async def _send(self, members: list[Notification]) -> Outcome | None:
        notification = members[0]
        parent = propagate.extract(notification.trace)
        with tracer.start_as_current_span(f"send {self.channel.value}", context=parent, kind=SpanKind.CLIENT) as span:
            span.set_attributes({"notification.name": notification.name, "notification.kind": notification.kind.value})
            if len(members) > 1:
                span.set_attribute("notification.batch_size", len(members))
            try:
                message = self._writer.message(members) if self._writer is not None else notification
                return await self._sender.send(message)
            except ChannelUnavailable as error:
                span.record_exception(error)
                if not self._down.is_set():  # once per outage
                    refused = isinstance(error, ChannelRefused)
                    log.log(logging.ERROR if refused else logging.WARNING, "%s channel down: %s", self.channel, error)
                    CHANNEL_UP.labels(self.channel.value).set(0)
                    self._down.set()
                return None
            except Exception as error:  # a bug or a surprise of the library: count it as a temporary failure
                span.record_exception(error)
                log.exception("sending %s failed unexpectedly", notification.name)
                return Failed(f"unexpected: {type(error).__name__}", transient=True)

    async def _record(self, attempts: list[delivering.Attempt]) -> list[Notification]:
        await delivering.record_attempts(
            attempts, worker=self._claimant, uow=self._uow(), clock=self._clock, rules=self._rules
        )
        return [attempt.notification for attempt in attempts]

    def _count(self, notifications: list[Notification], outcome: Outcome | None) -> None:
        """One attempt per message sent; each notice it named ends (or not) on its own."""
        channel = self.channel.value
        if outcome is None:
            return
        ATTEMPTS.labels(channel, "sent" if isinstance(outcome, Sent) else "failed").inc()
        for notification in notifications:
            if notification.status == Status.SENT:
                DELIVERED.labels(channel, "sent").inc()
                if notification.event_at is not None and notification.sent_at is not None:
                    LATENCY.labels(channel).observe((notification.sent_at - notification.event_at).total_seconds())
            elif notification.status == Status.FAILED:
                DELIVERED.labels(channel, "failed").inc()

    async def _wait_until_back(self) -> None:
        """Probe the channel with exponential backoff and jitter until it answers (tries are not spent)."""
        async for attempt in tenacity.AsyncRetrying(
            wait=tenacity.wait_exponential_jitter(multiplier=0.2, max=5.0),
            retry=tenacity.retry_if_exception_type(ChannelUnavailable),
        ):
            with attempt:
                await self._sender.probe()
        log.info("%s channel is back", self.channel)
        CHANNEL_UP.labels(self.channel.value).set(1)
        self._down.clear()
