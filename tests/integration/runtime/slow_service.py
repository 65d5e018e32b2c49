"""A service with one slow unary method, served by the shared runtime (used by the drain test).

The method stands in for a public one (catalog's GetBook), since the runtime refuses methods its access
table does not list."""

from __future__ import annotations

import asyncio
import sys

import grpc

from services.support.runtime.server import Served, ServiceApp, serve
from services.support.runtime.settings import BaseServiceSettings

SLOW_SERVICE, SLOW_METHOD = "athenaeum.catalog.v1.CatalogService", "GetBook"


async def _wait(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
    await asyncio.sleep(1.5)
    return b"done"


def _register(server: grpc.aio.Server) -> None:
    handler = grpc.unary_unary_rpc_method_handler(_wait)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SLOW_SERVICE, {SLOW_METHOD: handler}),))


async def main(port: int) -> None:
    settings = BaseServiceSettings(port=port, shutdown_grace_seconds=10)
    await serve(
        ServiceApp(name="slow", settings=settings, services=[Served(SLOW_SERVICE, _register)], health_checks=[])
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
