"""The NATS token can come apart from the URL (Helm puts it in a Secret): the link sends it; without it, the
server refuses the connection and the service waits instead of crashing."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest

from services.support.launcher.nats import LocalNats
from services.support.runtime.messaging import NatsLink
from services.support.runtime.settings import BaseServiceSettings

pytestmark = pytest.mark.integration


async def _connects(url: str, token: str) -> bool:
    link = NatsLink(url, name="token-test", token=token)
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


async def test_the_token_setting_reaches_the_server_and_nothing_connects_without_it(
    own_nats: LocalNats, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = urlsplit(own_nats.url)
    token, bare = parts.username or "", f"nats://{parts.hostname}:{parts.port}"
    monkeypatch.setenv("ATHENAEUM_NATS_URL", bare)
    monkeypatch.setenv("ATHENAEUM_NATS_TOKEN", token)
    settings = BaseServiceSettings()
    assert token and settings.nats_url == bare and token not in repr(settings)
    assert await _connects(settings.nats_url, settings.nats_token.get_secret_value())
    assert not await _connects(bare, "")
    assert not await _connects(bare, "not-the-token")
