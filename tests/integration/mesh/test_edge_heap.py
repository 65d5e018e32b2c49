"""The edge's own config on a real Envoy with a small heap budget. One edge has spent its budget already
(1 MiB, far under what an idle edge holds): every action saturated, what a REST and a gRPC caller are told.
Another has room for a few held calls: a client holding more, each with 3 MiB of a request it never
finishes, loses them, and the edge goes on answering."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2, status_pb2

from services.support.launcher.envoy_process import start_envoy
from services.support.mesh.envoy import edge_config, render, write_sds_files
from services.support.mesh.envoy_edge_errors import EDGE_OVERLOADED, OVERLOADED_MESSAGE
from services.support.mesh.envoy_heap import MiB
from services.support.mesh.topology import Topology

pytestmark = pytest.mark.integration

UNAVAILABLE = 14
SPENT_BUDGET = MiB
ROOM_FOR_HELD_CALLS = 24 * MiB
HELD_BYTES = 3 * MiB
SEARCH = "/athenaeum.catalog.v1.CatalogService/SearchBooks"


@contextmanager
def _edge(topology: Topology, ports: Iterator[int], folder: Path, budget: int) -> Iterator[Topology]:
    """An edge of its own (the session's topology, other ports and admin socket) with a heap `budget`."""
    assert topology.edge_admin_socket is not None
    edge = dataclasses.replace(
        topology,
        edge_port=next(ports),
        edge_admin_port=next(ports),
        edge_admin_socket=topology.edge_admin_socket.with_name(f"heap-{budget}-admin.sock"),
        edge_heap_budget_bytes=budget,
    )
    write_sds_files(topology.cert_dir)
    config_file = folder / f"edge-{budget}.yaml"
    config_file.write_text(render(edge_config(edge)))
    with start_envoy(config_file, admin_port=edge.edge_admin_port, log_path=folder / f"edge-{budget}.log"):
        yield edge


@pytest.fixture(scope="module")
def heap_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("heap")


@pytest.fixture(scope="module")
def overloaded_edge(topology: Topology, free_port_source: Iterator[int], heap_dir: Path) -> Iterator[Topology]:
    with _edge(topology, free_port_source, heap_dir, SPENT_BUDGET) as edge:
        yield edge


def _url(edge: Topology, path: str) -> str:
    return f"http://127.0.0.1:{edge.edge_port}{path}"


def _stat(edge: Topology, name: str) -> int:
    """One stat of the edge, read on its admin pages (which stay out of the overload manager)."""
    text = httpx.get(f"http://127.0.0.1:{edge.edge_admin_port}/stats?filter=^{name}$").text
    (line,) = text.splitlines()
    return int(line.rsplit(":", 1)[1])


def _measured(edge: Topology, name: str) -> int:
    """`name` once the overload manager has first measured the heap (every 250 ms from the start)."""
    deadline = time.monotonic() + 10
    while _stat(edge, "overload.envoy.resource_monitors.fixed_heap.pressure") == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the actions follow the measure
    return _stat(edge, name)


def test_a_rest_call_to_an_edge_out_of_memory_is_a_clean_unavailable_status(overloaded_edge: Topology) -> None:
    assert _measured(overloaded_edge, "overload.envoy.overload_actions.stop_accepting_requests.active") == 1

    response = httpx.get(_url(overloaded_edge, "/v1/books"))

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert (body["code"], body["message"]) == (UNAVAILABLE, OVERLOADED_MESSAGE)
    assert [detail.get("reason") for detail in body["details"]] == [EDGE_OVERLOADED, None]
    assert body["details"][1]["retry_delay"] == "5s"


def test_a_grpc_call_to_an_edge_out_of_memory_is_unavailable_with_its_reason(overloaded_edge: Topology) -> None:
    assert _measured(overloaded_edge, "overload.envoy.overload_actions.stop_accepting_requests.active") == 1

    response = httpx.post(
        _url(overloaded_edge, SEARCH),
        headers={"content-type": "application/grpc", "te": "trailers"},
        content=b"\x00\x00\x00\x00\x00",
    )

    assert response.headers["grpc-status"] == str(UNAVAILABLE)
    status = status_pb2.Status.FromString(base64.b64decode(response.headers["grpc-status-details-bin"]))
    assert (status.code, status.message) == (UNAVAILABLE, OVERLOADED_MESSAGE)
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert info.reason == EDGE_OVERLOADED


async def _held_call(channel: grpc.aio.Channel, never: asyncio.Event) -> grpc.StatusCode:
    """A call sending 3 MiB of its one message and never the end of its request: the edge holds it whole."""

    async def request() -> AsyncIterator[bytes]:
        yield b"\x0a\x80\x80\xc0\x01" + b"a" * HELD_BYTES  # SearchBooksRequest.query of 3 MiB
        await never.wait()

    call = channel.stream_stream(SEARCH)(request())
    try:
        async for _ in call:
            pass
    except grpc.aio.AioRpcError as error:
        return error.code()
    return await call.code()


async def test_calls_holding_the_edge_s_memory_are_reset_and_the_edge_goes_on_answering(
    overloaded_edge: Topology, topology: Topology, free_port_source: Iterator[int], heap_dir: Path
) -> None:
    """The budget is what an idle edge holds here (measured on the spent one) and 24 MiB: eight held calls
    would fill it. The edge resets held calls from about 92 % of it, before it refuses anyone (98 %)."""
    idle = _measured(overloaded_edge, "overload.envoy.resource_monitors.fixed_heap.pressure") * SPENT_BUDGET // 100
    with _edge(topology, free_port_source, heap_dir, idle + ROOM_FOR_HELD_CALLS) as edge:
        _measured(edge, "overload.envoy.resource_monitors.fixed_heap.pressure")
        never = asyncio.Event()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{edge.edge_port}") as channel:
            held = []
            for _ in range(12):
                held.append(asyncio.create_task(_held_call(channel, never)))
                await asyncio.sleep(0.4)
            await asyncio.wait(held, timeout=5, return_when=asyncio.FIRST_COMPLETED)  # a busy machine
            ended = [task.result() for task in held if task.done()]
            later = await _answer(channel)
            resets = _stat(edge, "envoy.overload_actions.reset_high_memory_stream.count")
            for task in held:
                task.cancel()

    assert resets >= 1
    # A reset is all the client of a held call sees (RST_STREAM: gRPC INTERNAL): Envoy sends it no status.
    assert ended and set(ended) == {grpc.StatusCode.INTERNAL}
    # Answered, by the edge or what the session runs behind it (UNAVAILABLE for no catalog, or a fake app's
    # UNIMPLEMENTED); not reset, nor left without an answer.
    assert later not in {grpc.StatusCode.INTERNAL, grpc.StatusCode.DEADLINE_EXCEEDED}


async def _answer(channel: grpc.aio.Channel) -> grpc.StatusCode:
    try:
        await channel.unary_unary(SEARCH)(b"", timeout=5)
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK
