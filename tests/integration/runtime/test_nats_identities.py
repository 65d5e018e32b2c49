"""Each service signs in to NATS as itself and may publish only its own context's events (a forged account
change must never reach loans' projection), change only its own stream, leave alone the durable consumers
another service owns, and read only the streams it consumes (a loan history is private); the operator may
do everything."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from pathlib import Path

import nats as nats_py
import pytest

from services.support.launcher.nats import LocalNats, nats_server_binary
from services.support.mesh import nats_auth, registry
from services.support.runtime.followers import Follower
from services.support.runtime.messaging import NatsLink, ensure_streams, inbox_prefix, stream_config

pytestmark = pytest.mark.integration
NEVER_ALLOWED = "sentinel.no-service-may-publish-here"


class Client:
    """A connection that records the server's permission violations instead of raising them."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        self.sentinel_refused = asyncio.Event()
        self.nc: nats_py.NATS | None = None
        self.inbox = "_INBOX"

    async def connect(self, nats: LocalNats, service: str = "") -> Client:
        """As `service` (with its inbox, as the services connect), or as the operator."""

        async def error(e: Exception) -> None:
            self.violations.append(str(e))
            if NEVER_ALLOWED in str(e):
                self.sentinel_refused.set()

        url, self.inbox = (nats.url_for(service), inbox_prefix(service)) if service else (nats.url, "_INBOX")
        self.nc = await nats_py.connect(url, error_cb=error, allow_reconnect=False, inbox_prefix=self.inbox)
        return self

    async def refused(self, subject: str) -> bool:
        """Publishes to `subject` (no payload that anyone would act on) and says if the server refused it.

        The server's -ERR may come after the PONG of a flush, so this waits for the refusal of a subject no
        service may publish to, sent after `subject`: refusals come in order (not for the operator, whom
        nothing is refused)."""
        assert self.nc is not None
        before = len(self.violations)
        self.sentinel_refused.clear()
        await self.nc.publish(subject, b"")
        await self.nc.publish(NEVER_ALLOWED, b"")
        await asyncio.wait_for(self.sentinel_refused.wait(), timeout=5)
        return any(subject.lower() in v.lower() for v in self.violations[before:])

    async def hears(self, subject: str, published_by: Client) -> bool:
        """Subscribes to `subject` (core NATS) and says if it got what `published_by` published there.

        A subscription may take effect after the PONG of a flush, so a sentinel in this client's own inbox,
        subscribed after `subject`, is published until it arrives: the server has then made or refused both
        subscriptions. What is published next arrives in order, the sentinel last."""
        assert self.nc is not None and published_by.nc is not None
        listening = await self.nc.subscribe(subject)
        sentinel = await self.nc.subscribe(f"{self.inbox}.sentinel-{uuid.uuid4().hex}")
        async with asyncio.timeout(5):
            while not sentinel.pending_msgs:
                await published_by.nc.publish(sentinel.subject, b"")
                await published_by.nc.flush()
                await asyncio.sleep(0.01)
        while sentinel.pending_msgs:
            await sentinel.next_msg()
        await published_by.nc.publish(subject.replace(">", "x"), b"private")
        await published_by.nc.publish(sentinel.subject, b"")
        await published_by.nc.flush()
        await sentinel.next_msg(timeout=5)
        arrived = [await listening.next_msg() for _ in range(listening.pending_msgs)]
        return [m.data for m in arrived if m.subject != sentinel.subject] == [b"private"]


async def read_one(client: Client, context: str) -> bytes:
    """The first message of a context's stream, read as a follower reads (pushed to the reader's inbox)."""
    js = client.nc.jetstream(timeout=2)  # type: ignore[union-attr]
    reader = await js.subscribe(f"athenaeum.{context}.>", stream=f"ATHENAEUM_{context.upper()}", manual_ack=True)
    message = await reader.next_msg(timeout=5)
    await reader.unsubscribe()
    return bytes(message.data)


@pytest.fixture
async def streams(own_nats: LocalNats) -> None:
    operator = await nats_py.connect(own_nats.url)
    await ensure_streams(operator.jetstream())
    await operator.close()


async def test_a_service_publishes_its_own_events_and_no_one_elses(own_nats: LocalNats, streams: None) -> None:
    catalog = await Client().connect(own_nats, "catalog")
    js = catalog.nc.jetstream()  # type: ignore[union-attr]
    acknowledged = await js.publish("athenaeum.catalog.book_updated.v1", b"", timeout=5)
    assert acknowledged.stream == "ATHENAEUM_CATALOG"
    assert await catalog.refused("athenaeum.users.user_updated.v1")  # an account change forged by catalog
    assert await catalog.refused("athenaeum.loans.loan_issued.v1")
    assert not await catalog.refused("athenaeum.dlq.catalog-test")  # dead letters are anyone's
    await catalog.nc.close()  # type: ignore[union-attr]


async def test_a_service_changes_only_its_own_stream_and_makes_no_new_one(own_nats: LocalNats, streams: None) -> None:
    loans = await Client().connect(own_nats, "loans")
    js = loans.nc.jetstream()  # type: ignore[union-attr]
    await ensure_streams(js, owner="loans")  # what the service does when it connects
    users_stream = stream_config("users")
    users_stream.max_age = 1.0  # would expire every account event at once
    with pytest.raises((nats_py.errors.TimeoutError, nats_py.errors.NoRespondersError)):
        await js.update_stream(users_stream)
    assert await loans.refused("$JS.API.STREAM.CREATE.REPUBLISHER")
    assert await loans.refused("$JS.API.STREAM.DELETE.ATHENAEUM_USERS")
    assert (await js.stream_info("ATHENAEUM_USERS")).config.max_age == stream_config("users").max_age
    await loans.nc.close()  # type: ignore[union-attr]


async def test_a_service_leaves_the_durables_of_others_alone(own_nats: LocalNats, streams: None) -> None:
    catalog = await Client().connect(own_nats, "catalog")
    for subject in (
        "$JS.API.CONSUMER.DELETE.ATHENAEUM_USERS.loans-patrons",
        "$JS.API.CONSUMER.CREATE.ATHENAEUM_USERS.loans-patrons",
        "$JS.API.CONSUMER.MSG.NEXT.ATHENAEUM_USERS.loans-patrons",
        "$JS.ACK.ATHENAEUM_USERS.loans-patrons.1.7.7.1700000000000000000.0",  # would skip a block for good
        "$JS.API.CONSUMER.DELETE.ATHENAEUM_LOANS.events-audit",
    ):
        assert await catalog.refused(subject), subject
    assert not await catalog.refused(f"$JS.API.CONSUMER.INFO.ATHENAEUM_USERS.{uuid.uuid4().hex}")
    loans = await Client().connect(own_nats, "loans")
    assert not await loans.refused("$JS.API.CONSUMER.INFO.ATHENAEUM_USERS.loans-patrons")
    assert not await loans.refused("$JS.ACK.ATHENAEUM_USERS.loans-patrons.1.7.7.1700000000000000000.0")
    for client in (catalog, loans):
        await client.nc.close()  # type: ignore[union-attr]


async def test_a_service_reads_only_the_streams_it_consumes(own_nats: LocalNats, streams: None) -> None:
    operator = await Client().connect(own_nats)
    await operator.nc.jetstream().publish("athenaeum.loans.loan_issued.v1", b"a loan", timeout=5)  # type: ignore[union-attr]
    catalog = await Client().connect(own_nats, "catalog")
    for stream in ("ATHENAEUM_LOANS", "ATHENAEUM_DLQ", "EVENTS_INGEST"):
        assert await catalog.refused(f"$JS.API.CONSUMER.CREATE.{stream}"), stream
        assert await catalog.refused(f"$JS.API.CONSUMER.CREATE.{stream}.snoop"), stream
        assert await catalog.refused(f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.snoop"), stream
        assert await catalog.refused(f"$JS.API.CONSUMER.MSG.NEXT.{stream}.events-audit"), stream
        assert await catalog.refused(f"$JS.API.DIRECT.GET.{stream}"), stream
        assert await catalog.refused(f"$JS.API.STREAM.MSG.GET.{stream}"), stream
    with pytest.raises((nats_py.errors.TimeoutError, nats_py.errors.NoRespondersError)):
        await read_one(catalog, "loans")  # the loans stream, as a client library reads it
    notifications = await Client().connect(own_nats, "notifications")
    assert await read_one(notifications, "loans") == b"a loan"  # what it tells readers of
    await operator.nc.jetstream().publish("athenaeum.users.user_sessions_revoked.v1", b"revoked", timeout=5)  # type: ignore[union-attr]
    assert await read_one(catalog, "users") == b"revoked"  # every service follows the revoked sessions
    for client in (operator, catalog, notifications):
        await client.nc.close()  # type: ignore[union-attr]


async def test_a_service_hears_neither_the_events_as_published_nor_another_services_replies(
    own_nats: LocalNats, streams: None
) -> None:
    operator = await Client().connect(own_nats)
    catalog = await Client().connect(own_nats, "catalog")
    assert not await catalog.hears("athenaeum.loans.>", published_by=operator)
    assert not await catalog.hears("athenaeum.users.>", published_by=operator)
    assert not await catalog.hears(f"{inbox_prefix('loans')}.>", published_by=operator)  # loans' fetched messages
    assert not await catalog.hears("_INBOX.>", published_by=operator)
    assert await catalog.hears(f"{inbox_prefix('catalog')}.>", published_by=operator)  # its own replies
    events = await Client().connect(own_nats, "events")
    assert await events.hears("athenaeum.>", published_by=operator)  # the live feed shows every event
    assert await catalog.refused(f"{inbox_prefix('loans')}.forged")  # nor answer a request of loans'
    for client in (operator, catalog, events):
        await client.nc.close()  # type: ignore[union-attr]


async def test_no_service_can_take_the_messages_another_services_follower_reads(
    own_nats: LocalNats, streams: None
) -> None:
    """Loans follows the users stream (revoked sessions); the catalog reads that stream too, yet can neither
    fetch loans' follower's messages, nor delete its consumer, nor hear them on their way to loans."""
    link = NatsLink(own_nats.url_for("loans"), name="loans-follower-test", owner="loans")
    running = asyncio.create_task(link.run())
    await asyncio.wait_for(link.wait_connected(), 10)
    seen: list[bytes] = []
    follower = Follower(
        link, name="revocations-test", stream="ATHENAEUM_USERS", subject="athenaeum.users.>",
        handle=lambda message: seen.append(message.data),
    )  # fmt: skip
    following = asyncio.create_task(follower.run())
    operator = await Client().connect(own_nats)
    catalog = await Client().connect(own_nats, "catalog")
    try:
        for _ in range(100):
            if follower.health.is_up():
                break
            await asyncio.sleep(0.05)
        (name,) = await operator.nc.jetstream().consumers_info("ATHENAEUM_USERS")  # type: ignore[union-attr]
        assert await catalog.refused(f"$JS.API.CONSUMER.MSG.NEXT.ATHENAEUM_USERS.{name.name}")
        assert await catalog.refused(f"$JS.API.CONSUMER.DELETE.ATHENAEUM_USERS.{name.name}")  # nor stop it
        deliver = name.config.deliver_subject or ""
        assert deliver.startswith(f"{inbox_prefix('loans')}.")  # pushed to loans' inbox, which only loans reads
        await operator.nc.jetstream().publish("athenaeum.users.user_sessions_revoked.v1", b"revoked", timeout=5)  # type: ignore[union-attr]
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.05)
        assert seen == [b"revoked"]
    finally:
        following.cancel()
        running.cancel()
        await asyncio.gather(following, running, return_exceptions=True)
        await link.close()
        for client in (operator, catalog):
            await client.nc.close()  # type: ignore[union-attr]


async def test_the_operator_may_do_everything(own_nats: LocalNats, streams: None) -> None:
    operator = await Client().connect(own_nats)
    assert operator.nc is not None
    acknowledged = await operator.nc.jetstream().publish("athenaeum.users.user_updated.v1", b"", timeout=5)
    assert acknowledged.stream == "ATHENAEUM_USERS"  # an account change, which no service but users may make
    answer = await operator.nc.request("$JS.API.CONSUMER.INFO.ATHENAEUM_USERS.loans-patrons", b"", timeout=5)
    assert b"ATHENAEUM_USERS" in answer.data or b"consumer not found" in answer.data  # answered, not refused
    assert operator.violations == []
    await operator.nc.close()


def test_the_charts_users_are_a_config_nats_accepts(tmp_path: Path) -> None:
    """The chart's NATS reads the same users, with the passwords from its environment (the Secret)."""
    config = tmp_path / "nats.conf"
    config.write_text(nats_auth.authorization_from_environment())
    env = {**os.environ, **{nats_auth.password_variable(s.name): f"pw-{s.name}" for s in registry.SERVICES}}
    checked = subprocess.run(
        [nats_server_binary(), "-c", str(config), "-t"], env=env, capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stderr
    assert "$NATS_PASSWORD_LOANS" in config.read_text()
