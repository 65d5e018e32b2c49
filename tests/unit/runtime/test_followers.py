"""A follower hands on its messages in order and notices one lost on the way (no I/O: the messages are built
as JetStream delivers them, their sequences in the reply subject)."""

from __future__ import annotations

import asyncio

import pytest
from nats.aio.msg import Msg

from services.support.runtime.followers import Follower, MissedMessage
from services.support.runtime.messaging import NatsLink


def delivered(stream_sequence: int, consumer_sequence: int) -> Msg:
    reply = f"$JS.ACK.ATHENAEUM_USERS.follower.1.{stream_sequence}.{consumer_sequence}.1700000000000000000.0"
    return Msg(
        _client=None, subject="athenaeum.users.user_sessions_revoked.v1", reply=reply, data=b"%d" % stream_sequence
    )  # type: ignore[arg-type]


def follower(seen: list[bytes]) -> Follower:
    link = NatsLink("nats://127.0.0.1:1", name="test")
    return Follower(
        link, name="test", stream="ATHENAEUM_USERS", subject="athenaeum.users.>", handle=lambda m: seen.append(m.data)
    )


def test_a_follower_hands_on_its_messages_and_resumes_after_the_last() -> None:
    seen: list[bytes] = []
    reader = follower(seen)
    asyncio.run(reader._handle(None, [delivered(7, 1), delivered(9, 2)]))  # type: ignore[arg-type]
    assert seen == [b"7", b"9"] and reader._next_sequence == 10


def test_a_message_lost_on_the_way_makes_the_follower_read_again_from_the_last_it_handled() -> None:
    seen: list[bytes] = []
    reader = follower(seen)
    with pytest.raises(MissedMessage):
        asyncio.run(reader._handle(None, [delivered(7, 1), delivered(12, 3)]))  # type: ignore[arg-type]
    assert seen == [b"7"] and reader._next_sequence == 8
