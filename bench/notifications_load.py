"""The notifications bench's load (notifications.py): the events it publishes, the stand-in catalog that names
their books, and the watches and waits it measures with."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import psutil

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from athenaeum.loans.v1 import events_pb2 as loans
from athenaeum.loans.v1 import resources_pb2
from athenaeum.users.v1 import events_pb2 as users
from athenaeum.users.v1 import users_pb2
from services.support.launcher.sink_servers import SinkClient
from services.support.runtime.wire import event_subject, timestamp


async def publish(js, events) -> None:
    for start in range(0, len(events), 512):
        chunk = events[start : start + 512]
        await asyncio.gather(
            *(
                js.publish(event_subject(c, e), e.SerializeToString(), headers={"Nats-Msg-Id": e.event_id})
                for c, e in chunk
            )
        )


class Catalog(catalog_pb2_grpc.CatalogServiceServicer):
    """Stands in for the catalog (and the service's sidecar): the titles of the books hold-ready events name.
    Without it, each look-up waits for an unreachable catalog and the bench measures that wait."""

    async def GetBook(self, request: catalog_pb2.GetBookRequest, context) -> catalog_pb2.Book:
        return catalog_pb2.Book(name=request.name, title=f"Title of {request.name[-4:]}")


async def serve_catalog(port: int) -> grpc.aio.Server:
    """Started once the services are: a gRPC server in this process must not be running while it forks them."""
    server = grpc.aio.server()
    catalog_pb2_grpc.add_CatalogServiceServicer_to_server(Catalog(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    return server


def patrons(count: int) -> list[tuple[str, users.UserRegistered]]:
    quiet = {"welcome": users_pb2.ChannelChoice(email=False, sms=False)}
    found = []
    for i in range(count):
        user = users_pb2.User(
            name=f"users/{uuid.uuid4()}",
            email=f"bench-{i}@example.org",
            phone=f"+7999{i:07d}",
            display_name=f"Reader {i}",
            status=users_pb2.USER_STATUS_ACTIVE,
            etag='W/"1"',
            notification_preferences=users_pb2.NotificationPreferences(email_opt_in=True, sms_opt_in=True, kinds=quiet),
        )
        found.append(
            (
                "users",
                users.UserRegistered(event_id=str(uuid.uuid4()), occur_time=timestamp(datetime.now(UTC)), user=user),
            )
        )
    return found


def burst(people: list[str], count: int) -> list[tuple[str, object]]:
    events: list[tuple[str, object]] = []
    now = datetime.now(UTC)
    for i in range(count):
        patron = people[i % len(people)]
        at = timestamp(datetime.now(UTC))
        if i % 2:
            hold = resources_pb2.Hold(
                name=f"holds/{uuid.uuid4()}",
                patron=patron,
                book=f"books/{uuid.UUID(int=i % 50)}",
                pickup_branch="main",
                expire_time=timestamp(now + timedelta(days=3)),
            )
            events.append(("loans", loans.HoldReady(event_id=str(uuid.uuid4()), occur_time=at, hold=hold)))
        else:
            loan = resources_pb2.Loan(
                name=f"loans/{uuid.uuid4()}",
                patron=patron,
                book_title=f"Book {i}",
                barcode=f"31{i:09d}",
                due_time=timestamp(now + timedelta(days=2)),
            )
            events.append(("loans", loans.LoanDueSoon(event_id=str(uuid.uuid4()), occur_time=at, loan=loan, step=1)))
    return events


class Watch:
    """Peak RSS and CPU time of one process (and its children)."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak_rss = 0
        self._stop = False

    def cpu(self) -> float:
        times = self.process.cpu_times()
        return times.user + times.system

    async def run(self) -> None:
        while not self._stop:
            self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        self._stop = True


def cuts(values: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(values, n=100)
    return q[49] * 1000, q[98] * 1000


async def wait_for(clients: list[SinkClient], target: int, timeout: float) -> float:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while sum(c.count() for c in clients) < target:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {sum(c.count() for c in clients)} of {target} delivered")
        await asyncio.sleep(0.05)
    return time.monotonic()
