"""The users service's answer about a patron, from the projection of accounts when it is provably current.

Current means: the projection's durable consumer has nothing pending and nothing unacknowledged on the users
stream (asked of JetStream before the row is read; a message is acked only after its row is committed).
The users service confirms a change of an account only once its event is in that stream (`announced()` in
users), so a block, a closed account or a new category a librarian was told of is in the projection by the
time the answer here can rely on it. Otherwise — the consumer behind, NATS away, no row, or a row that would
refuse — the users service is asked, as before: a refusal is always current and in its words."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Counter

from services.loans.app.peers import Users
from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.borrowing import Eligibility
from services.support.runtime.clock import Clock
from services.support.runtime.messaging import ConsumerSpec, NatsLink

ANSWERS = Counter(
    "athenaeum_loans_eligibility_total",
    "Where the answer about a patron's eligibility came from: the projection of accounts, or the users service.",
    ["source"],
)
FENCE_TIMEOUT_SECONDS = 0.5
"""A slow JetStream costs an issue at most this before the users service is asked instead."""


class ProjectedUsers:
    """Implements app.peers.Users: the projection when it is current and lets the patron borrow, else `asked`.
    `ready`: whether the projection's consumer in this process is up and has checked its stream."""

    def __init__(
        self,
        *,
        uow: Callable[[], LoansUnitOfWork],
        link: NatsLink,
        consumer: ConsumerSpec,
        clock: Clock,
        asked: Users,
        ready: Callable[[], bool],
    ) -> None:
        self._uow = uow
        self._ready = ready
        self._link = link
        self._consumer = consumer
        self._clock = clock
        self._asked = asked
        for source in ("projection", "users"):
            ANSWERS.labels(source)

    async def eligibility(self, patron: str) -> Eligibility:
        if await self._caught_up():
            uow = self._uow()
            async with uow.reading():
                record = await uow.patrons.get(patron)
            answer = record.lending_eligibility(self._clock.now()) if record is not None else None
            if answer is not None:
                ANSWERS.labels("projection").inc()
                return answer
        ANSWERS.labels("users").inc()
        return await self._asked.eligibility(patron)

    async def account(self, patron: str) -> Eligibility:
        return await self._asked.account(patron)

    async def _caught_up(self) -> bool:
        """Whether every users event published so far is in the projection (`ready`: this process's consumer
        has checked, since it last subscribed, that the projection was built from this stream, unbroken)."""
        if not (self._ready() and self._link.is_connected):
            return False
        try:
            info = await self._link.jetstream().consumer_info(
                self._consumer.stream, self._consumer.durable, timeout=FENCE_TIMEOUT_SECONDS
            )
        except Exception:  # no such consumer yet, NATS slow or away: ask the users service
            return False
        return info.num_pending == 0 and info.num_ack_pending == 0
