"""How many record streams (StreamRecordEvents) one reader may hold open at once, in this process. Pure.

A stream is one call the edge lets through however long it stays open, and one whose first batch never came
whole (a length prefix claiming more bytes than were sent) stayed open until the edge's idle timeout, 5
minutes. A signed-in reader holding a thousand of them, within the edge's rate limit for writes, took every
concurrent call the edge may make to the events service: recording, the trail and the watches answered 503 to
everyone. A reader needs one stream (batches go one after another on it); staff and the mesh's services are not
counted.
"""

from __future__ import annotations

from collections import Counter

from services.events.domain.model import Recorder
from services.support.runtime.errors import Throttled

MOST_OPEN_PER_READER = 4
RETRY_SECONDS = 1


class OpenStreams:
    def __init__(self, most_per_reader: int = MOST_OPEN_PER_READER) -> None:
        self._most = most_per_reader
        self._open: Counter[str] = Counter()

    def enter(self, recorder: Recorder) -> None:
        """Count a stream opened by `recorder`; RESOURCE_EXHAUSTED if a reader holds the most already."""
        if recorder.staff:
            return
        if self._open[recorder.name] >= self._most:
            raise Throttled(
                f"a reader may hold at most {self._most} record streams open at once: end one first",
                reason="TOO_MANY_STREAMS",
                retry_after=RETRY_SECONDS,
            )
        self._open[recorder.name] += 1

    def leave(self, recorder: Recorder) -> None:
        """Count a stream `enter` let open as ended."""
        if recorder.staff:
            return
        self._open[recorder.name] -= 1
        if self._open[recorder.name] <= 0:
            del self._open[recorder.name]

    def held_by(self, recorder: Recorder) -> int:
        return self._open[recorder.name]
