"""A follower hands on its messages in order and notices one lost on the way (no I/O: the messages are built
as JetStream delivers them, their sequences in the reply subject)."""

from __future__ import annotations

import asyncio

import pytest
from nats.aio.msg import Msg

from services.support.runtime.followers import Follower, MissedMessage
from services.support.runtime.messaging import NatsLink


def delivered(
    stream_sequence: int,
    consumer_sequence: int,
    *,
    stream: str = "ATHENAEUM_USERS",
    consumer: str = "follower",
    subject: str = "athenaeum.users.user_sessions_revoked.v1",
) -> Msg:
    reply = f"$JS.ACK.{stream}.{consumer}.1.{stream_sequence}.{consumer_sequence}.1700000000000000000.0"
    return Msg(_client=None, subject=subject, reply=reply, data=b"%d" % stream_sequence)  # type: ignore[arg-type]


def follower(seen: list[bytes]) -> Follower:
    link = NatsLink("nats://127.0.0.1:1", name="test")
    reader = Follower(
        link, name="test", stream="ATHENAEUM_USERS", subject="athenaeum.users.>", handle=lambda m: seen.append(m.data)
    )
    reader._consumer = "follower"  # as its subscription named it
    return reader


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


def test_a_follower_refuses_what_another_consumer_delivered_to_its_inbox() -> None:
    """Loans' user can have the server deliver its own stream's messages to another's inbox (a consumer's
    deliver subject, a fetch's reply subject): the follower takes only its own consumer's, from its stream."""
    seen: list[bytes] = []
    reader = follower(seen)
    forged = [
        delivered(3, 1, stream="ATHENAEUM_LOANS", consumer="x1m", subject="athenaeum.loans.x1m_staging"),
        delivered(4, 1, consumer="x1m"),  # a consumer of the users stream, but not this follower's
        delivered(5, 1, subject="athenaeum.loans.x1m_staging"),  # stored in the users stream by such a delivery
        Msg(_client=None, subject="athenaeum.users.user_sessions_revoked.v1", reply="", data=b"core"),  # type: ignore[arg-type]
    ]
    asyncio.run(reader._handle(None, [*forged, delivered(7, 1)]))  # type: ignore[arg-type]
    assert seen == [b"7"] and reader._next_sequence == 8
