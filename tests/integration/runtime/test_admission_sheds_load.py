"""Admission on a real grpc.aio server: calls from the edge beyond the limit are refused at once with
RESOURCE_EXHAUSTED, RetryInfo and a retry-after header; calls from peers and probes are never refused."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import cast

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from services.support.runtime.admission import Admission, AdmissionInterceptor
from services.support.runtime.identity import EDGE_CALLER
from services.support.runtime.interceptors import ServerInterceptor

pytestmark = pytest.mark.integration
SERVICE, METHOD = "athenaeum.catalog.v1.CatalogService", "GetBook"
EDGE = (("x-forwarded-client-cert", f"By=spiffe://athenaeum/catalog;URI={EDGE_CALLER}"),)
PEER = (("x-forwarded-client-cert", "By=spiffe://athenaeum/catalog;URI=spiffe://athenaeum/loans"),)


@pytest.fixture(params=["admission interceptor", "one interceptor"])
async def call(request) -> AsyncIterator[grpc.aio.UnaryUnaryMultiCallable]:
    async def slow(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        await asyncio.sleep(0.5)
        return b"done"

    admission = Admission(most=2, wait=0.05, target=5.0)
    if request.param == "admission interceptor":
        server = registrar = grpc.aio.server(interceptors=[AdmissionInterceptor(admission)])
    else:  # as services run: the runtime's one interceptor, first thing in it
        server = grpc.aio.server()
        one = ServerInterceptor(default_deadline_seconds=10, admission=admission)
        registrar = cast(grpc.aio.Server, one.registrar(server))
    handler = grpc.unary_unary_rpc_method_handler(slow)
    registrar.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, {METHOD: handler}),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield channel.unary_unary(f"/{SERVICE}/{METHOD}")
    await server.stop(None)


async def outcome(call: grpc.aio.UnaryUnaryMultiCallable, metadata: tuple[tuple[str, str], ...]) -> str:
    try:
        await call(b"", metadata=metadata, timeout=10)
    except grpc.aio.AioRpcError as error:
        return error.code().name
    return "OK"


async def test_calls_from_the_edge_beyond_the_limit_are_refused_at_once_and_told_when_to_come_back(call) -> None:
    codes = Counter(await asyncio.gather(*(outcome(call, EDGE) for _ in range(6))))
    assert codes == {"OK": 2, "RESOURCE_EXHAUSTED": 4}
    with pytest.raises(grpc.aio.AioRpcError) as shed:
        await asyncio.gather(call(b"", metadata=EDGE, timeout=10), call(b"", metadata=EDGE, timeout=10),
                             call(b"", metadata=EDGE, timeout=10))  # fmt: skip
    status = rpc_status.from_call(shed.value)  # type: ignore[arg-type]
    assert any(detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR) for detail in status.details)
    assert ("retry-after", "1") in tuple(shed.value.trailing_metadata() or ())


async def test_calls_from_peers_and_probes_are_never_refused(call) -> None:
    codes = Counter(await asyncio.gather(*(outcome(call, metadata) for metadata in (PEER, (), PEER, (), PEER))))
    assert codes == {"OK": 5}
