"""How many events one reader may record: a token bucket per reader, in this process. Pure.

The edge's rate limit counts requests, so a batch of a thousand events cost a reader what one did, and a
`StreamRecordEvents` stream was one request however many batches it carried: one free account recorded
~14,000 events a second, slowed everyone else's recording 300-fold and would have filled the ingestion
stream (then refused for everyone) and the disk. Staff and the mesh's services are not counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from services.events.domain.model import Recorder
from services.support.runtime.errors import InvalidArgument, Throttled

MAX_TRACKED = 10_000
"""Readers remembered at once; past it, those whose bucket has filled again are forgotten (a full bucket is
what a reader not remembered gets)."""


@dataclass(frozen=True, slots=True)
class BudgetPolicy:
    per_second: float
    burst: int


class RecordingBudget:
    def __init__(self, policy: BudgetPolicy) -> None:
        self._policy = policy
        self._buckets: dict[str, tuple[float, float]] = {}
        """Reader -> (tokens, as of when: seconds since 1970)."""

    def take(self, recorder: Recorder, count: int, *, now: datetime) -> None:
        """Spend `count` events of the reader's budget; RESOURCE_EXHAUSTED (with when to retry) if it holds
        fewer, INVALID_ARGUMENT for a batch larger than the budget can ever hold."""
        if recorder.staff:
            return
        policy, moment = self._policy, now.timestamp()
        if count > policy.burst:
            raise InvalidArgument.field("events", f"a reader records at most {policy.burst} events at once")
        tokens, then = self._buckets.get(recorder.name, (float(policy.burst), moment))
        tokens = min(float(policy.burst), tokens + max(0.0, moment - then) * policy.per_second)
        if tokens < count:
            wait = math.ceil((count - tokens) / policy.per_second)
            raise Throttled(
                f"more events than a reader may record: retry in {wait} s",
                reason="RECORDING_BUDGET",
                retry_after=wait,
            )
        self._buckets[recorder.name] = (tokens - count, moment)
        if len(self._buckets) > MAX_TRACKED:
            self._forget_refilled(moment)

    def _forget_refilled(self, moment: float) -> None:
        policy = self._policy
        self._buckets = {
            name: (tokens, then)
            for name, (tokens, then) in self._buckets.items()
            if tokens + (moment - then) * policy.per_second < policy.burst
        }
