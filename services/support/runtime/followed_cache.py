"""A per-process cache kept fresh by an event feed: what every such cache must do to never serve stale data.

The process that commits a change drops what it changed right after the commit (it reads its own writes), and
every process drops it when the change's event arrives on JetStream. The cache serves only while that feed's
follower is up (`trust_while`): while it is down every read goes to the database, and when it is back the
cache starts empty, so a change missed meanwhile is never served. A read that began before a drop is not kept
(`generation`). Subclasses hold the entries and a TTL that bounds staleness besides.
"""

from __future__ import annotations

from collections.abc import Callable


class FollowedCache:
    """The trust and generation bookkeeping; subclasses implement `_drop_all` and call `_usable`. One event loop."""

    def __init__(self) -> None:
        self._generation = 0
        self._trusted: Callable[[], bool] = lambda: True
        self._was_trusted = True
        self.hits = 0
        self.misses = 0

    def trust_while(self, follower_up: Callable[[], bool]) -> None:
        """Serve (and keep) entries only while `follower_up()`, the invalidation feed, says it is up."""
        self._trusted, self._was_trusted = follower_up, False
        self.clear()

    def _usable(self) -> bool:
        trusted = self._trusted()
        if trusted and not self._was_trusted:  # back after an outage: what it holds may have missed a change
            self.clear()
        self._was_trusted = trusted
        return trusted

    def generation(self) -> int:
        """Take before reading the database; a `put` with an older generation is refused (a drop came between)."""
        return self._generation

    def _current(self, generation: int) -> bool:
        return generation == self._generation and self._usable()

    def clear(self) -> None:
        """Everything may have changed: the next reads go to the database."""
        self._generation += 1
        self._drop_all()

    def _drop_all(self) -> None:
        raise NotImplementedError
