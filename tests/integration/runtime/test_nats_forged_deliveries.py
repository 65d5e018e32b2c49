"""One service's NATS user can have the server deliver its own stream's messages anywhere (a push consumer's
deliver subject, a fetch's reply subject: NATS checks neither against its rights). It cannot list the
consumers to learn where another service's followers read, and a follower that is sent such a delivery
anyway refuses it: loans' user cannot sign sessions out in the catalog with a "users" event of its making."""

from __future__ import annotations

import asyncio
import json
import uuid

import nats as nats_py
import pytest

from services.support.launcher.nats import LocalNats
from services.support.runtime.followers import Follower
from services.support.runtime.messaging import NatsLink, ensure_streams, inbox_prefix

pytestmark = pytest.mark.integration


async def _until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def _aim_deliveries(loans: nats_py.NATS, target: str) -> None:
    """What a compromised loans does: a message of its own stream, delivered to `target` by a push consumer
    and by a fetch from its own durable whose reply subject is `target`."""
    js = loans.jetstream()
    await js.publish("athenaeum.loans.x1m_staging", b"forged by loans", timeout=5)
    name = "x1m" + uuid.uuid4().hex[:8]
    config = {"name": name, "deliver_subject": target, "filter_subject": "athenaeum.loans.x1m_staging",
              "deliver_policy": "all", "ack_policy": "none"}  # fmt: skip
    answer = await loans.request(
        f"$JS.API.CONSUMER.CREATE.ATHENAEUM_LOANS.{name}.athenaeum.loans.x1m_staging",
        json.dumps({"stream_name": "ATHENAEUM_LOANS", "config": config}).encode(),
        timeout=5,
    )
    assert b'"error"' not in answer.data, answer.data  # the server takes it: permissions cannot see the body
    durable = {"name": "loans-patrons", "filter_subject": "athenaeum.loans.x1m_staging", "deliver_policy": "all",
               "ack_policy": "explicit"}  # fmt: skip
    await loans.request(
        "$JS.API.CONSUMER.CREATE.ATHENAEUM_LOANS.loans-patrons.athenaeum.loans.x1m_staging",
        json.dumps({"stream_name": "ATHENAEUM_LOANS", "config": durable}).encode(),
        timeout=5,
    )
    await loans.publish("$JS.API.CONSUMER.MSG.NEXT.ATHENAEUM_LOANS.loans-patrons", b'{"batch": 1}', reply=target)
    await loans.flush()


async def test_a_forged_delivery_into_another_services_follower_is_refused(own_nats: LocalNats) -> None:
    operator = await nats_py.connect(own_nats.url)
    await ensure_streams(operator.jetstream())
    link = NatsLink(own_nats.url_for("catalog"), name="catalog-follower-test", owner="catalog")
    running = asyncio.create_task(link.run())
    await asyncio.wait_for(link.wait_connected(), 10)
    seen: list[bytes] = []
    follower = Follower(
        link, name="revocations-test", stream="ATHENAEUM_USERS", subject="athenaeum.users.>",
        handle=lambda message: seen.append(message.data),
    )  # fmt: skip
    following = asyncio.create_task(follower.run())
    refusals: list[str] = []

    async def refused(error: Exception) -> None:
        refusals.append(str(error))

    loans = await nats_py.connect(own_nats.url_for("loans"), inbox_prefix=inbox_prefix("loans"), error_cb=refused)
    try:
        await _until(follower.health.is_up, "the follower")
        with pytest.raises((nats_py.errors.TimeoutError, nats_py.errors.NoRespondersError)):
            await loans.jetstream(timeout=2).consumers_info("ATHENAEUM_USERS")  # where do the others read?
        await _until(lambda: any("consumer.list" in r.lower() for r in refusals), "the refusal")
        # Loans could not list them; say it guessed the catalog's follower's inbox anyway.
        (consumer,) = await operator.jetstream().consumers_info("ATHENAEUM_USERS")
        target = consumer.config.deliver_subject or ""
        assert target.startswith(f"{inbox_prefix('catalog')}.")
        await _aim_deliveries(loans, target)
        await operator.jetstream().publish("athenaeum.users.user_sessions_revoked.v1", b"revoked", timeout=5)
        await _until(lambda: seen, "the genuine event")
        await asyncio.sleep(0.5)  # anything forged that was still on its way
        assert seen == [b"revoked"]  # the users event, and nothing of loans' making
    finally:
        following.cancel()
        running.cancel()
        await asyncio.gather(following, running, return_exceptions=True)
        await link.close()
        for client in (operator, loans):
            await client.close()
