"""The load of test_events_kill9, in a process of its own: the test process forks Postgres, NATS and the
service again while clients run, and forking a process whose threads are busy in gRPC can crash the child
(CPython's after-fork handling), so the test process makes no gRPC calls of its own meanwhile."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path

import grpc

from athenaeum.events.v1 import events_pb2, events_pb2_grpc
from services.support.runtime.wire import timestamp

RETRIED = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.DEADLINE_EXCEEDED}


async def client(target: str, metadata, index: int, stop: Event, refused: Synchronized, accepted: set[str]) -> None:
    async with grpc.aio.insecure_channel(target) as channel:
        stub = events_pb2_grpc.EventsServiceStub(channel)
        while not stop.is_set():
            stamp = timestamp(datetime.now(UTC))
            events = [
                events_pb2.Event(name=f"events/{uuid.uuid4()}", type="test.kill", occur_time=stamp, source=f"c{index}")
                for _ in range(200)
            ]
            request = events_pb2.BatchRecordEventsRequest(events=events, request_id=str(uuid.uuid4()))
            while True:  # the same batch (same request id, same names) until it is accepted
                try:
                    await stub.BatchRecordEvents(request, metadata=metadata, timeout=5)
                except grpc.aio.AioRpcError as error:
                    if error.code() not in RETRIED:
                        raise AssertionError(f"{error.code()}: {error.details()}") from None
                    with refused.get_lock():
                        refused.value += 1
                    await asyncio.sleep(0.2)
                    continue
                accepted.update(event.name.removeprefix("events/") for event in events)
                break
            await asyncio.sleep(0.02)


def run(target: str, metadata, clients: int, stop: Event, refused: Synchronized, output: str) -> None:
    """Send until `stop`; write the accepted event ids to `output` (a JSON list)."""
    accepted: set[str] = set()

    async def main() -> None:
        await asyncio.gather(*(client(target, metadata, n, stop, refused, accepted) for n in range(clients)))

    asyncio.run(main())
    Path(output).write_text(json.dumps(sorted(accepted)))
