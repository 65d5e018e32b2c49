"""How many record streams a reader may hold open at once."""

from __future__ import annotations

import pytest

from services.events.domain.model import Recorder
from services.events.domain.streams import OpenStreams
from services.support.runtime.errors import Throttled

READER = Recorder("users/00000000-0000-0000-0000-000000000001", staff=False)
OTHER = Recorder("users/00000000-0000-0000-0000-000000000002", staff=False)
LIBRARIAN = Recorder("users/00000000-0000-0000-0000-000000000003", staff=True)


def test_a_reader_holding_the_most_streams_is_refused_another_until_one_ends() -> None:
    streams = OpenStreams(most_per_reader=2)
    streams.enter(READER)
    streams.enter(READER)
    with pytest.raises(Throttled) as refused:
        streams.enter(READER)
    assert (refused.value.reason, refused.value.retry_after) == ("TOO_MANY_STREAMS", 1)
    streams.enter(OTHER)  # another reader's own count
    streams.leave(READER)
    streams.enter(READER)
    assert streams.held_by(READER) == 2


def test_staff_and_services_are_not_counted() -> None:
    streams = OpenStreams(most_per_reader=1)
    for _ in range(5):
        streams.enter(LIBRARIAN)
    streams.leave(LIBRARIAN)
    assert streams.held_by(LIBRARIAN) == 0


def test_a_reader_whose_streams_all_ended_is_forgotten() -> None:
    streams = OpenStreams()
    streams.enter(READER)
    streams.leave(READER)
    assert streams.held_by(READER) == 0 and not streams._open  # nothing kept per reader once they are gone
