"""The projection of accounts against a real Postgres and a real JetStream: an answer comes from it only while
its consumer has every users event published so far; the newest version of an account wins whatever order
its events arrive in; a block published is never lent past."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

import pytest
from loans_world import World, relaying, running

from athenaeum.users.v1 import events_pb2 as users_events
from athenaeum.users.v1 import users_pb2
from services.loans.api.users_feed import ACCOUNTS, AccountsConsumer
from services.loans.app.patrons import keep_account
from services.loans.data.projected_users import ProjectedUsers
from services.loans.domain.patrons import PatronRecord
from services.support.launcher.components import REPO_ROOT
from services.support.launcher.nats import LocalNats
from services.support.runtime.messaging import ConsumerSpec, NatsLink, ensure_streams
from services.support.runtime.wire import event_subject

pytestmark = pytest.mark.integration
ACTIVE, BLOCKED = users_pb2.USER_STATUS_ACTIVE, users_pb2.USER_STATUS_BLOCKED


class CountingUsers:
    """The users service behind the projection: what it says, and how often it was asked."""

    def __init__(self, world: World) -> None:
        self._users = world.users
        self.calls = 0

    async def eligibility(self, patron: str):  # type: ignore[no-untyped-def]
        self.calls += 1
        return await self._users.eligibility(patron)

    async def account(self, patron: str):  # type: ignore[no-untyped-def]
        return await self.eligibility(patron)


@pytest.fixture
async def link(world: World, own_nats: LocalNats) -> AsyncIterator[NatsLink]:
    """A NATS of this module's own: its tests publish an unreadable event and make the users stream again."""
    async with relaying(world, own_nats.url, "loans-patron-projection-test") as (link, _):
        yield link


@pytest.fixture
def spec() -> ConsumerSpec:
    """A durable of this test's own on the users stream (it reads the stream from its start)."""
    return replace(ACCOUNTS, durable=f"loans-patrons-{uuid.uuid4().hex[:8]}")


async def _announce(link: NatsLink, patron: str, version: int, status: int) -> None:
    """What the users service's relay publishes for a change of the account (and JetStream acknowledged)."""
    user = users_pb2.User(name=patron, status=status, patron_category="ADULT", etag=f'W/"{version}"')
    event = users_events.UserUpdated(event_id=str(uuid.uuid4()), user=user)
    await link.jetstream().publish(event_subject("users", event), event.SerializeToString())


@dataclass
class Scene:
    """A patron the projection knows as active, the projection's consumer running, and the answers to ask."""

    patron: str
    users: CountingUsers
    service: ProjectedUsers
    consumer: AccountsConsumer
    consuming: asyncio.Task[None]

    async def answered_by_projection(self) -> None:
        deadline = time.monotonic() + 10
        while True:
            asked = self.users.calls
            await self.service.eligibility(self.patron)
            if self.users.calls == asked:
                return
            assert time.monotonic() < deadline, "the projection never answered"
            await asyncio.sleep(0.05)


@asynccontextmanager
async def _served_by_projection(world: World, link: NatsLink, spec: ConsumerSpec) -> AsyncIterator[Scene]:
    users = CountingUsers(world)
    consumer = AccountsConsumer(link, world.new_uow, spec, clock=world.clock)
    service = ProjectedUsers(
        uow=world.new_uow, link=link, consumer=spec, clock=world.clock, asked=users, ready=consumer.ready
    )
    scene = Scene(f"users/{uuid.uuid4()}", users, service, consumer, await running(consumer))
    try:
        await _announce(link, scene.patron, 1, ACTIVE)
        await scene.answered_by_projection()
        yield scene
    finally:
        scene.consuming.cancel()
        await asyncio.gather(scene.consuming, return_exceptions=True)


async def test_a_block_once_published_is_never_lent_past(world: World, link: NatsLink, spec: ConsumerSpec) -> None:
    async with _served_by_projection(world, link, spec) as scene:
        for version in range(2, 22, 2):  # blocked and unblocked, each change asked about at once
            world.users.blocked[scene.patron] = ("blocked: lost books",)  # users' own state, then its event
            await _announce(link, scene.patron, version, BLOCKED)
            assert not (await scene.service.eligibility(scene.patron)).eligible
            del world.users.blocked[scene.patron]
            await _announce(link, scene.patron, version + 1, ACTIVE)
            assert (await scene.service.eligibility(scene.patron)).eligible
        await scene.answered_by_projection()  # and the projection serves again


async def test_an_older_version_arriving_late_changes_nothing(world: World, link: NatsLink, spec: ConsumerSpec) -> None:
    async with _served_by_projection(world, link, spec) as scene:
        await _announce(link, scene.patron, 5, BLOCKED)
        await _announce(link, scene.patron, 4, ACTIVE)  # a change made before the block, relayed after it
        deadline = time.monotonic() + 10
        while not await _caught_up(link, spec):  # both handled and acknowledged
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        stored = await _stored(world, scene.patron)
        assert stored is not None and (stored.version, stored.status) == (5, "BLOCKED")


async def test_while_the_consumer_is_behind_users_is_asked(world: World, link: NatsLink, spec: ConsumerSpec) -> None:
    async with _served_by_projection(world, link, spec) as scene:
        scene.consuming.cancel()
        await asyncio.gather(scene.consuming, return_exceptions=True)
        world.users.blocked[scene.patron] = ("account closed",)
        await _announce(link, scene.patron, 2, users_pb2.USER_STATUS_DEACTIVATED)  # nobody reads it now
        asked = scene.users.calls
        answer = await scene.service.eligibility(scene.patron)
        assert not answer.eligible and answer.reasons == ("account closed",) and scene.users.calls == asked + 1


async def test_sign_ins_never_make_the_projection_look_behind(world: World, link: NatsLink, spec: ConsumerSpec) -> None:
    """Only the account events count: with nothing reading the stream (the consumer stopped, its check passed),
    a burst of sign-ins leaves the projection answering; one change of an account makes users asked."""
    async with _served_by_projection(world, link, spec) as scene:
        scene.consuming.cancel()
        await asyncio.gather(scene.consuming, return_exceptions=True)
        fenced = replace(scene, service=ProjectedUsers(
            uow=world.new_uow, link=link, consumer=spec, clock=world.clock, asked=scene.users, ready=lambda: True
        ))  # fmt: skip
        for _ in range(20):
            signed_in = users_events.UserLoggedIn(event_id=str(uuid.uuid4()), name=scene.patron)
            await link.jetstream().publish(event_subject("users", signed_in), signed_in.SerializeToString())
        # Polled: a fence check that timed out under load asks users once; sign-ins counted would stay pending.
        await fenced.answered_by_projection()
        assert (await fenced.service.eligibility(scene.patron)).eligible
        await _announce(link, scene.patron, 2, ACTIVE)  # nobody reads it now
        # JetStream counts a filtered consumer's pending messages after it acknowledges the publish, not with
        # it: wait until it does. Then the count holds the account change alone, none of the sign-ins before it.
        assert await _pending_once_counted(link, spec) == 1
        asked = scene.users.calls
        await fenced.service.eligibility(scene.patron)
        assert scene.users.calls == asked + 1


async def test_an_event_that_cannot_be_read_makes_the_projection_start_over(
    world: World, link: NatsLink, spec: ConsumerSpec
) -> None:
    """It may have been any account's change (a block): every record is forgotten, and the consumer goes on."""
    async with _served_by_projection(world, link, spec) as scene:
        garbage = b"\xff\x00 not a UserUpdated"
        await link.jetstream().publish(event_subject("users", users_events.UserUpdated()), garbage)
        deadline = time.monotonic() + 10
        while await _stored(world, scene.patron) is not None:
            assert time.monotonic() < deadline, "the projection kept its records"
            await asyncio.sleep(0.05)
        asked = scene.users.calls
        await scene.service.eligibility(scene.patron)
        assert scene.users.calls == asked + 1
        await _announce(link, scene.patron, 2, ACTIVE)  # the next change brings the account back
        await scene.answered_by_projection()


async def test_a_users_stream_made_again_is_not_trusted_with_what_the_old_one_said(
    world: World, link: NatsLink, spec: ConsumerSpec
) -> None:
    """NATS's storage lost: the stream is made again, empty, and what the old one said may be missing a change
    (here a block). The consumer sees another stream when it subscribes again and the projection starts over."""
    async with _served_by_projection(world, link, spec) as scene:
        js = link.jetstream()
        await js.delete_stream(spec.stream)
        world.users.blocked[scene.patron] = ("blocked: lost books",)  # published to the stream that was lost
        await ensure_streams(js)  # as the services do when they connect
        deadline = time.monotonic() + 30
        while await _stored(world, scene.patron) is not None or not scene.consumer.ready():
            assert time.monotonic() < deadline, "the consumer did not start over"
            await asyncio.sleep(0.1)
        answer = await scene.service.eligibility(scene.patron)
        assert not answer.eligible and answer.reasons == ("blocked: lost books",)


async def _caught_up(link: NatsLink, spec: ConsumerSpec) -> bool:
    info = await link.jetstream().consumer_info(spec.stream, spec.durable)
    return info.num_pending == 0 and info.num_ack_pending == 0


async def _pending_once_counted(link: NatsLink, spec: ConsumerSpec) -> int:
    """The consumer's pending count once JetStream has counted anything published to it (10 s at most)."""
    deadline = time.monotonic() + 10
    while not (pending := (await link.jetstream().consumer_info(spec.stream, spec.durable)).num_pending):
        assert time.monotonic() < deadline, "JetStream never counted the message published"
        await asyncio.sleep(0.05)
    return pending


async def _stored(world: World, patron: str):  # type: ignore[no-untyped-def]
    uow = world.new_uow()
    async with uow.reading():
        return await uow.patrons.get(patron)


async def test_an_operator_empties_the_projection_after_a_restore_of_users(world: World, postgres) -> None:
    """`athenaeum loans forget-accounts`, as run beside the service (its settings, its database)."""
    assert await keep_account(PatronRecord("users/ada", 9, "ACTIVE"), uow=world.new_uow(), clock=world.clock)
    url = world.engine.url.render_as_string(hide_password=False)
    env = {
        **os.environ,
        "ATHENAEUM_DATABASE_URL": url,
        "ATHENAEUM_ENVIRONMENT": "test",
        "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{REPO_ROOT / 'gen' / 'python'}",
    }
    command = [sys.executable, "-m", "services.loans.cli", "forget-accounts"]
    done = await asyncio.to_thread(
        subprocess.run, command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "forgot 1 accounts" in done.stdout
    assert await _stored(world, "users/ada") is None
