"""WatchEvents' feed shows a message JetStream drops as a repeat once: within a window, within a bound."""

from __future__ import annotations

from services.events.api.live import _Recent


class Ticking:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_repeat_within_the_window_is_dropped_and_after_it_shown_again() -> None:
    clock = Ticking()
    recent = _Recent(300.0, 100, clock)
    assert recent.first("a") and recent.first("b")
    clock.now = 299.0
    assert not recent.first("a")
    clock.now = 301.0
    assert recent.first("a")  # past the window: shown again (best effort; JetStream still drops it)
    assert recent.first("c")


def test_at_most_limit_ids_are_remembered_the_oldest_forgotten_first() -> None:
    recent = _Recent(300.0, 3, Ticking())
    assert all(recent.first(key) for key in "abcd")
    assert recent.first("a")  # forgotten to make room for d
    assert not recent.first("d")
    recent.clear()
    assert recent.first("d")
