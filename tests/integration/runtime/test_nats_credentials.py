"""A service's NATS credentials can come apart from the URL (Helm puts the password in a Secret) or in it (the
local mesh): the link signs in as that user and takes its replies at that user's inbox; with wrong ones the
server refuses the connection and the service waits instead of crashing."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest

from services.support.launcher.nats import LocalNats
from services.support.runtime.messaging import NatsLink
from services.support.runtime.settings import BaseServiceSettings

pytestmark = pytest.mark.integration


async def _connects(url: str, user: str, password: str, *, owner: str = "loans") -> bool:
    link = NatsLink(url, name="credentials-test", owner=owner, user=user, password=password)
    running = asyncio.create_task(link.run())
    try:
        await asyncio.wait_for(link.wait_connected(), 3)
        return True
    except TimeoutError:
        return False
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        if link.is_connected:
            await link.close()


async def test_the_user_and_password_settings_reach_the_server_and_nothing_connects_without_them(
    own_nats: LocalNats, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = urlsplit(own_nats.url_for("loans"))
    bare = f"nats://{parts.hostname}:{parts.port}"
    monkeypatch.setenv("ATHENAEUM_NATS_URL", bare)
    monkeypatch.setenv("ATHENAEUM_NATS_USER", "loans")
    monkeypatch.setenv("ATHENAEUM_NATS_PASSWORD", own_nats.password_of("loans"))
    settings = BaseServiceSettings()
    password = settings.nats_password.get_secret_value()
    assert settings.nats_url == bare and password not in repr(settings)
    assert await _connects(settings.nats_url, settings.nats_user, password)
    assert not await _connects(bare, "", "")
    assert not await _connects(bare, "loans", own_nats.password_of("users"))  # another service's password


async def test_a_service_signed_in_by_its_url_takes_its_replies_at_its_own_inbox(own_nats: LocalNats) -> None:
    """The local mesh gives each service a URL with its user in it: connecting declares the streams (JetStream
    API requests), whose answers come only to the inbox that user may read."""
    assert await _connects(own_nats.url_for("loans"), "", "")
    assert await _connects(own_nats.url_for("catalog"), "", "", owner="catalog")
