"""How often a durable consumer's handler failed on a message, and how long a message waits before it is tried
again.

The server's own count (a message's `num_delivered`, its max_deliver) takes in every delivery, those that found
a dependency away too: a users service down for half a minute would use up a message's tries. So the server
redelivers without limit and the consumer counts here the failures that are the message's own. The count is
this process's: after a restart a message that kept failing gets its tries again (it is retried more, never
dead-lettered sooner).
"""

from __future__ import annotations

from nats.aio.msg import Msg

RETRY_BASE_SECONDS = 1.0
"""The first delay is twice this; each next one doubles."""
MAX_RETRY_SECONDS = 30.0
MAX_WAITING_SECONDS = 60.0
"""A message waiting on a dependency is tried again at least this often, however long that takes."""
SERVER_DELIVERIES = 2_000
"""The server's own limit for a consumer whose spec gives up (max_deliver > 0), a backstop far above the count
kept here: about a day and a half of a dependency away at a try a minute, and as many restarts at most for a
message that kills the process each time it is handled (which no count in the process can see)."""
KEPT = 10_000
"""Counts kept at most (the oldest forgotten first): a message retried by another process is never acked here."""


def retry_delay(failures: int) -> float:
    """The wait after a message's `failures`-th failure."""
    return min(RETRY_BASE_SECONDS * 2.0 ** min(failures, 32), MAX_RETRY_SECONDS)


def waiting_delay(delivered: int) -> float:
    """The wait after a delivery that found a dependency away (`delivered`: the deliveries so far)."""
    return min(RETRY_BASE_SECONDS * 2.0 ** min(delivered, 32), MAX_WAITING_SECONDS)


class Failures:
    """The handler's failures per message (by stream and stream sequence) of one durable consumer."""

    def __init__(self, kept: int = KEPT) -> None:
        self._kept = kept
        self._counts: dict[tuple[str, int], int] = {}

    def count(self, message: Msg) -> int:
        """One more failure of `message`: how many it has had."""
        key = _key(message)
        failures = self._counts.pop(key, 0) + 1
        self._counts[key] = failures  # the latest last: the oldest are forgotten first
        if len(self._counts) > self._kept:
            del self._counts[next(iter(self._counts))]
        return failures

    def forget(self, message: Msg) -> None:
        """`message` is done with (acked or dead-lettered)."""
        if self._counts:
            self._counts.pop(_key(message), None)


def _key(message: Msg) -> tuple[str, int]:
    metadata = message.metadata
    return metadata.stream, metadata.sequence.stream
