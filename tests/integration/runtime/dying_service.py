"""A service whose one background task fails soon after it starts serving, as the events service's does when
JetStream has no room for its ingestion stream (used by the lifecycle test)."""

from __future__ import annotations

import asyncio
import sys

from services.support.runtime.server import ServiceApp, run
from services.support.runtime.settings import BaseServiceSettings

REASON = "JetStream cannot reserve 1 GiB for the ingest stream"


async def reserve_stream() -> None:
    await asyncio.sleep(0.2)
    raise RuntimeError(REASON)


def main(port: int) -> None:
    settings = BaseServiceSettings(port=port)

    async def build() -> ServiceApp:
        return ServiceApp(name="dying", settings=settings, services=[], health_checks=[], background=[reserve_stream])

    run(build, settings=settings, name="dying")


if __name__ == "__main__":
    main(int(sys.argv[1]))
