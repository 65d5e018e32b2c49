"""The bundled nats-server: JetStream is on, and publishes are deduplicated by message id."""

from __future__ import annotations

import nats as nats_client
import pytest

pytestmark = pytest.mark.integration


async def test_jetstream_stores_a_message_and_drops_its_duplicate(nats: str) -> None:
    client = await nats_client.connect(nats)
    try:
        jetstream = client.jetstream()
        await jetstream.add_stream(name="LAUNCHER_TEST", subjects=["launcher.test.>"], duplicate_window=60)
        first = await jetstream.publish("launcher.test.hello", b"hi", headers={"Nats-Msg-Id": "one"})
        again = await jetstream.publish("launcher.test.hello", b"hi", headers={"Nats-Msg-Id": "one"})
        info = await jetstream.stream_info("LAUNCHER_TEST")
        await jetstream.delete_stream("LAUNCHER_TEST")
    finally:
        await client.close()

    assert first.duplicate is None
    assert again.duplicate is True
    assert info.state.messages == 1
