"""When an issue may take the patron's eligibility from the projection, and when it must ask users."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from services.loans.data.projected_users import ProjectedUsers
from services.loans.domain.patrons import PatronRecord
from services.support.runtime.clock import FixedClock
from services.support.runtime.messaging import ConsumerSpec

from ..fake_peers import FakeUsers
from ..fakes import FakeLoansDatabase

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)
SPEC = ConsumerSpec(stream="ATHENAEUM_USERS", durable="loans-patrons", filter_subject="athenaeum.users.>")


@dataclass
class Info:
    num_pending: int = 0
    num_ack_pending: int = 0


class Stream:
    """What JetStream says of the projection's consumer (the integration tests ask a real one)."""

    def __init__(self) -> None:
        self.is_connected = True
        self.info: Info | Exception = Info()
        self.asked: list[tuple[str, str]] = []

    def jetstream(self) -> Stream:
        return self

    async def consumer_info(self, stream: str, consumer: str, **_: object) -> Info:
        self.asked.append((stream, consumer))
        if isinstance(self.info, Exception):
            raise self.info
        return self.info


class CountingUsers(FakeUsers):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def eligibility(self, patron: str) -> Any:
        self.calls += 1
        return await super().eligibility(patron)


@pytest.fixture
def users() -> CountingUsers:
    return CountingUsers()


@pytest.fixture
def stream() -> Stream:
    return Stream()


def projected(db: FakeLoansDatabase, stream: Stream, users: CountingUsers, *, ready: bool = True) -> ProjectedUsers:
    return ProjectedUsers(
        uow=db.unit_of_work,
        link=stream,  # type: ignore[arg-type]
        consumer=SPEC,
        clock=FixedClock(NOW),
        asked=users,
        ready=lambda: ready,
    )


async def test_a_current_projection_answers_without_asking_users(db, stream, users) -> None:
    db.patrons["users/ada"] = PatronRecord("users/ada", 3, "ACTIVE", patron_category="STUDENT")
    answer = await projected(db, stream, users).eligibility("users/ada")
    assert answer.eligible and answer.patron_category == "STUDENT"
    assert users.calls == 0 and stream.asked == [("ATHENAEUM_USERS", "loans-patrons")]


@pytest.mark.parametrize(
    "behind", [Info(num_pending=1), Info(num_ack_pending=1), TimeoutError("slow"), LookupError("no consumer")]
)
async def test_users_is_asked_while_the_projection_may_be_behind(db, stream, users, behind) -> None:
    db.patrons["users/ada"] = PatronRecord("users/ada", 3, "ACTIVE")
    users.blocked["users/ada"] = ("blocked: unpaid fines",)  # what the projection has not seen yet
    stream.info = behind
    answer = await projected(db, stream, users).eligibility("users/ada")
    assert not answer.eligible and answer.reasons == ("blocked: unpaid fines",) and users.calls == 1


async def test_users_is_asked_until_this_processs_consumer_has_checked_its_stream(db, stream, users) -> None:
    db.patrons["users/ada"] = PatronRecord("users/ada", 3, "ACTIVE")
    await projected(db, stream, users, ready=False).eligibility("users/ada")
    assert users.calls == 1 and stream.asked == []


async def test_users_is_asked_without_nats_without_a_row_and_for_every_refusal(db, stream, users) -> None:
    service = projected(db, stream, users)
    await service.eligibility("users/new")  # registered, its event not here yet
    db.patrons["users/ada"] = PatronRecord("users/ada", 3, "BLOCKED")
    assert (await service.eligibility("users/ada")).eligible  # users unblocked it: its answer, not the row's
    stream.is_connected = False
    db.patrons["users/bo"] = PatronRecord("users/bo", 1, "ACTIVE")
    await service.eligibility("users/bo")
    assert users.calls == 3
