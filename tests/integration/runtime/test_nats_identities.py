"""Each service signs in to NATS as itself and may publish only its own context's events (a forged account
change must never reach loans' projection), change only its own stream, and leave alone the durable
consumers another service owns; the operator may do everything."""

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
from services.support.runtime.messaging import ensure_streams, stream_config

pytestmark = pytest.mark.integration


class Client:
    """A connection that records the server's permission violations instead of raising them."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        self.nc: nats_py.NATS | None = None

    async def connect(self, url: str) -> Client:
        async def error(e: Exception) -> None:
            self.violations.append(str(e))

        self.nc = await nats_py.connect(url, error_cb=error, allow_reconnect=False)
        return self

    async def refused(self, subject: str) -> bool:
        """Publishes to `subject` (no payload that anyone would act on) and says if the server refused it."""
        assert self.nc is not None
        before = len(self.violations)
        await self.nc.publish(subject, b"")
        await self.nc.flush()
        await asyncio.sleep(0.1)  # the -ERR comes asynchronously
        return any(subject.lower() in v.lower() for v in self.violations[before:])


@pytest.fixture
async def streams(own_nats: LocalNats) -> None:
    operator = await nats_py.connect(own_nats.url)
    await ensure_streams(operator.jetstream())
    await operator.close()


async def test_a_service_publishes_its_own_events_and_no_one_elses(own_nats: LocalNats, streams: None) -> None:
    catalog = await Client().connect(own_nats.url_for("catalog"))
    js = catalog.nc.jetstream()  # type: ignore[union-attr]
    acknowledged = await js.publish("athenaeum.catalog.book_updated.v1", b"", timeout=5)
    assert acknowledged.stream == "ATHENAEUM_CATALOG"
    assert await catalog.refused("athenaeum.users.user_updated.v1")  # an account change forged by catalog
    assert await catalog.refused("athenaeum.loans.loan_issued.v1")
    assert not await catalog.refused("athenaeum.dlq.catalog-test")  # dead letters are anyone's
    await catalog.nc.close()  # type: ignore[union-attr]


async def test_a_service_changes_only_its_own_stream_and_makes_no_new_one(own_nats: LocalNats, streams: None) -> None:
    loans = await Client().connect(own_nats.url_for("loans"))
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
    catalog = await Client().connect(own_nats.url_for("catalog"))
    for subject in (
        "$JS.API.CONSUMER.DELETE.ATHENAEUM_USERS.loans-patrons",
        "$JS.API.CONSUMER.CREATE.ATHENAEUM_USERS.loans-patrons",
        "$JS.API.CONSUMER.MSG.NEXT.ATHENAEUM_USERS.loans-patrons",
        "$JS.ACK.ATHENAEUM_USERS.loans-patrons.1.7.7.1700000000000000000.0",  # would skip a block for good
        "$JS.API.CONSUMER.DELETE.ATHENAEUM_LOANS.events-audit",
    ):
        assert await catalog.refused(subject), subject
    assert not await catalog.refused(f"$JS.API.CONSUMER.INFO.ATHENAEUM_USERS.{uuid.uuid4().hex}")
    loans = await Client().connect(own_nats.url_for("loans"))
    assert not await loans.refused("$JS.API.CONSUMER.INFO.ATHENAEUM_USERS.loans-patrons")
    assert not await loans.refused("$JS.ACK.ATHENAEUM_USERS.loans-patrons.1.7.7.1700000000000000000.0")
    for client in (catalog, loans):
        await client.nc.close()  # type: ignore[union-attr]


async def test_the_operator_may_do_everything(own_nats: LocalNats, streams: None) -> None:
    operator = await Client().connect(own_nats.url)
    assert not await operator.refused("athenaeum.users.user_updated.v1")
    assert not await operator.refused("$JS.API.CONSUMER.INFO.ATHENAEUM_USERS.loans-patrons")
    await operator.nc.close()  # type: ignore[union-attr]


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
