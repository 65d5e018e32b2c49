"""The bench's circulation desk: readers' accounts, a book with a copy per worker, and
the client that issues and returns by barcode as a desk does (loans_cycles.py, saturation.py, wakeups.py)."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import grpc
import httpx

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from athenaeum.loans.v1 import loans_pb2, loans_pb2_grpc
from athenaeum.users.v1 import users_pb2, users_pb2_grpc

READER_PASSWORD = "Bench-Reader-42"


def register_patrons(edge_url: str, count: int) -> list[str]:
    return [name for name, _ in register_readers(edge_url, count)]


def register_readers(edge_url: str, count: int) -> list[tuple[str, str]]:
    """`count` new accounts: each one's name and email (the password is READER_PASSWORD)."""
    with httpx.Client(base_url=edge_url, timeout=10) as edge:
        readers = []
        for _ in range(count):
            body = {"email": f"bench-{uuid.uuid4().hex[:10]}@example.org", "password": READER_PASSWORD}
            readers.append((edge.post("/v1/auth/register", json=body).json()["user"]["name"], body["email"]))
        return readers


@asynccontextmanager
async def signing_in(channel: grpc.aio.Channel, emails: list[str], rate: float) -> AsyncIterator[Counter[str]]:
    """Readers signing in at `rate` a second (each in turn) while the block runs: every sign-in is a users
    event that loans and notifications may be handed. Outcomes by status code."""
    outcomes: Counter[str] = Counter()
    if rate <= 0:
        yield outcomes
        return
    auth = users_pb2_grpc.AuthServiceStub(channel)

    async def one(email: str) -> None:
        try:
            await auth.Login(users_pb2.LoginRequest(email=email, password=READER_PASSWORD), timeout=30)
            outcomes["OK"] += 1
        except grpc.aio.AioRpcError as error:
            outcomes[error.code().name] += 1

    async def pace() -> None:
        for n in itertools.count():
            task = asyncio.create_task(one(emails[n % len(emails)]))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            await asyncio.sleep(1 / rate)

    in_flight: set[asyncio.Task[None]] = set()
    pacing = asyncio.create_task(pace())
    try:
        yield outcomes
    finally:
        pacing.cancel()
        await asyncio.gather(pacing, *in_flight, return_exceptions=True)


@dataclass
class Desk:
    """The loans client of the bench: one copy and one patron per worker."""

    loans: loans_pb2_grpc.LoansServiceStub
    metadata: tuple[tuple[str, str], ...]
    patrons: list[str]
    barcodes: list[str]
    shed: int = 0
    """Calls the loans service refused at once (RESOURCE_EXHAUSTED: admission) and the desk repeated."""

    async def issue(self, worker: int) -> None:
        request = loans_pb2.IssueLoanRequest(
            patron=self.patrons[worker], barcode=self.barcodes[worker], request_id=str(uuid.uuid4())
        )
        await self._until_admitted(self.loans.IssueLoan, request)

    async def give_back(self, worker: int) -> None:
        request = loans_pb2.ReturnLoanRequest(barcode=self.barcodes[worker], request_id=str(uuid.uuid4()))
        await self._until_admitted(self.loans.ReturnLoan, request)

    async def _until_admitted(self, call: Callable[..., Awaitable[object]], request: object) -> None:
        """As a desk client should: a call shed at the door is repeated (same request_id) a moment later;
        otherwise a return refused there would leave its copy out and fail every later issue of it."""
        while True:
            try:
                await call(request, metadata=self.metadata, timeout=30)
                return
            except grpc.aio.AioRpcError as error:
                if error.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
                    raise
                self.shed += 1
                await asyncio.sleep(0.05)

    async def cycle(self, worker: int) -> None:
        await self.issue(worker)
        await self.give_back(worker)


async def open_desk(channel: grpc.aio.Channel, token: str, patrons: list[str]) -> Desk:
    """One book with a copy per worker."""
    metadata = (("authorization", f"Bearer {token}"),)
    catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
    book = await catalog.CreateBook(
        catalog_pb2.CreateBookRequest(book=catalog_pb2.Book(title="The Overcoat")), metadata=metadata
    )
    barcodes = []
    for _ in patrons:
        copy = catalog_pb2.Copy(barcode=f"BENCH-{uuid.uuid4().hex[:10]}", item_type="BOOK")
        await catalog.CreateCopy(catalog_pb2.CreateCopyRequest(parent=book.name, copy=copy), metadata=metadata)
        barcodes.append(copy.barcode)
    return Desk(loans_pb2_grpc.LoansServiceStub(channel), metadata, patrons, barcodes)
