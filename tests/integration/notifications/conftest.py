"""Notifications processes on the session's Postgres, NATS and sinks; each test module gets its own
database and consumer group."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import nats as nats_client
import pytest
from notifications_harness import Notifications
from sqlalchemy.ext.asyncio import create_async_engine

from services.support.launcher.nats import LocalNats
from services.support.runtime.messaging import ensure_streams
from services.support.runtime.migrations import upgrade_to_head


@pytest.fixture(scope="module")
def notifications_settings() -> dict[str, str]:
    """Settings a module gives its processes beyond the common ones (it overrides this fixture)."""
    return {}


@pytest.fixture(scope="module")
async def notifications(
    postgres, sinks, launcher_dir, infra_supervisor, free_port_source, notifications_settings
) -> AsyncIterator[Notifications]:
    """A NATS of its own: the session's mesh, if it runs, has a notifications service of its own that would
    also take these events (and tell these patrons, whom it learns of from the same users stream)."""
    url = await asyncio.to_thread(postgres.fresh_database, "notifications")
    await asyncio.to_thread(upgrade_to_head, "notifications", url)
    name = f"nats-notifications-{uuid.uuid4().hex[:6]}"
    own_nats = LocalNats(launcher_dir / name, next(free_port_source), infra_supervisor, name=name)
    await asyncio.to_thread(own_nats.start)
    nats = own_nats.url
    connection = await nats_client.connect(nats)
    await ensure_streams(connection.jetstream())
    await connection.close()
    environment = {
        "ATHENAEUM_ENVIRONMENT": "test",
        "ATHENAEUM_DATABASE_URL": url,
        "ATHENAEUM_NATS_URL": nats,
        "ATHENAEUM_MESH_URL": "127.0.0.1:9",  # no catalog here: held books go untitled
        **sinks.addresses.service_environment(),
        "ATHENAEUM_SMS_QUIET_HOURS": "",
        "ATHENAEUM_CLAIM_LEASE_SECONDS": "3",
        "ATHENAEUM_RETRY_BASE_SECONDS": "0.5",
        "ATHENAEUM_CONSUMER_GROUP": f"test-{uuid.uuid4().hex[:8]}",
        "ATHENAEUM_HEALTH_CHECK_INTERVAL_SECONDS": "0.5",
        "ATHENAEUM_LOG_LEVEL": "WARNING",
        # Each notice its own message, as these tests count them (test_notice_batches_delivered batches them).
        "ATHENAEUM_NOTICE_BATCH_WINDOW_SECONDS": "0",
        **notifications_settings,
    }
    engine = create_async_engine(url)
    harness = Notifications(infra_supervisor, environment, engine, nats, free_port_source)
    yield harness
    for process in list(harness.processes):
        harness.stop(process)
    await engine.dispose()
    await asyncio.to_thread(own_nats.stop)
