"""What the circulation e2e tests share: REST calls through the edge, mesh-internal calls as loans makes
them, and the invariants circulation must keep."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import grpc
import httpx
from setup_calls import set_up

from athenaeum.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from services.support.mesh.registry import spiffe_id


def new_book(edge: httpx.Client, staff: Any, *, copies: int = 1) -> tuple[str, list[str]]:
    """A book with `copies` copies; its name and the copies' barcodes."""
    record = {"title": f"Retries {uuid.uuid4().hex[:6]}"}
    once = {"request_id": str(uuid.uuid4())}  # asked again while the mesh turns it away (setup_calls.py)
    created = set_up(lambda: edge.post("/v1/books", json=record, params=once, headers=staff.headers))
    assert created.status_code == 200, created.text
    book = created.json()["name"]
    return book, [add_copy(edge, staff, book) for _ in range(copies)]


def add_copy(edge: httpx.Client, staff: Any, book: str) -> str:
    barcode = f"RT-{uuid.uuid4().hex[:12]}"
    once = {"request_id": str(uuid.uuid4())}
    copy = set_up(
        lambda: edge.post(f"/v1/{book}/copies", json={"barcode": barcode}, params=once, headers=staff.headers)
    )
    assert copy.status_code == 200, copy.text
    return barcode


def reason(response: httpx.Response) -> str:
    """The google.rpc.ErrorInfo reason of a JSON error status ("" for none)."""
    try:
        details = response.json().get("details", [])
    except ValueError:
        return ""
    return next((d.get("reason", "") for d in details if d.get("@type", "").endswith("google.rpc.ErrorInfo")), "")


def issue(edge: httpx.Client, staff: Any, patron: str, request_id: str = "", **item: str) -> httpx.Response:
    body = {"patron": patron, **item, **({"request_id": request_id} if request_id else {})}
    return edge.post("/v1/loans:issue", json=body, headers=staff.headers)


def issue_when_served(
    edge: httpx.Client, staff: Any, patron: str, *, seconds: float = 40.0, **item: str
) -> httpx.Response:
    """Issue as a client does after an outage: re-sent with its request_id while the mesh does not serve it yet
    (503: a peer that just came back may stay ejected by the loans sidecar for a few seconds; 429: the edge's
    write budget refilling); the last answer."""
    item.setdefault("request_id", str(uuid.uuid4()))
    deadline = time.monotonic() + seconds
    while (response := issue(edge, staff, patron, **item)).status_code in (429, 503) and time.monotonic() < deadline:
        time.sleep(0.5)
    return response


def lend(edge: httpx.Client, staff: Any, patron: str, **item: str) -> dict[str, Any]:
    issued = issue(edge, staff, patron, **item)
    assert issued.status_code == 200, issued.text
    loan: dict[str, Any] = issued.json()
    return loan


def place_hold(edge: httpx.Client, patron: Any, book: str) -> dict[str, Any]:
    placed = edge.post("/v1/holds", json={"patron": patron.name, "book": book}, headers=patron.headers)
    assert placed.status_code == 200, placed.text
    hold: dict[str, Any] = placed.json()
    return hold


def receive(edge: httpx.Client, staff: Any, hold: str, *, branch: str | None = None) -> dict[str, Any]:
    """Staff bring the copy set aside for `hold` (on the pull list, or sent from another branch) to a desk at
    `branch` (None: the hold's pickup branch) and scan it (ReceiveHoldCopy): the hold as answered, READY at the
    pickup branch."""
    held = edge.get(f"/v1/{hold}", headers=staff.headers).json()
    assert held["status"] in ("HOLD_STATUS_IN_TRANSIT", "HOLD_STATUS_READY"), held
    barcode = edge.get(f"/v1/{held['copy']}", headers=staff.headers).json()["barcode"]
    desk = held.get("pickup_branch", "") if branch is None else branch
    received = edge.post("/v1/holds:receive", json={"barcode": barcode, "branch": desk}, headers=staff.headers)
    assert received.status_code == 200, received.text
    answer: dict[str, Any] = received.json()
    return answer


def copies_of(edge: httpx.Client, staff: Any, book: str) -> dict[str, dict[str, Any]]:
    """barcode -> copy."""
    listed = edge.get(f"/v1/{book}/copies", params={"page_size": 100}, headers=staff.headers)
    assert listed.status_code == 200, listed.text
    return {copy["barcode"]: copy for copy in listed.json().get("copies", [])}


def reconcile(edge: httpx.Client, admin: Any) -> dict[str, Any]:
    done = edge.post("/v1/circulation:reconcile", json={}, headers=admin.headers)
    assert done.status_code == 200, done.text
    report: dict[str, Any] = done.json()
    return report


def listed(edge: httpx.Client, staff: Any, path: str, key: str, **params: str) -> list[dict[str, Any]]:
    """Every item of a list, page after page."""
    items: list[dict[str, Any]] = []
    token = ""
    while True:
        page = edge.get(path, params={**params, "page_size": 100, "page_token": token}, headers=staff.headers)
        assert page.status_code == 200, page.text
        body = page.json()
        items += body.get(key, [])
        token = body.get("next_page_token", "")
        if not token:
            return items


def circulation_holds_together(edge: httpx.Client, staff: Any, books: Iterable[str]) -> None:
    """Each book's available copies = its copies - those on loan - those set aside for holds, where the copies
    on loan are exactly the active loans' copies, those on the shelf exactly the READY holds' copies and those
    in transit for a hold exactly the IN_TRANSIT holds' copies."""
    for book in books:
        copies = copies_of(edge, staff, book)
        by_name = {copy["name"]: copy for copy in copies.values()}
        loans = listed(edge, staff, "/v1/loans", "loans", book=book, status="LOAN_STATUS_ACTIVE")
        ready = listed(edge, staff, "/v1/holds", "holds", book=book, status="HOLD_STATUS_READY")
        sent = listed(edge, staff, "/v1/holds", "holds", book=book, status="HOLD_STATUS_IN_TRANSIT")
        lent = sorted(loan["copy"] for loan in loans)
        shelved = sorted(hold["copy"] for hold in ready)
        on_the_way = sorted(hold["copy"] for hold in sent)
        state = {"copies": by_name, "active loans": loans, "ready holds": ready, "holds in transit": sent}
        assert len(set(lent)) == len(lent), f"{book}: a copy is on two active loans: {state}"
        on_loan = sorted(name for name, c in by_name.items() if c["status"] == "COPY_STATUS_ON_LOAN")
        on_shelf = sorted(name for name, c in by_name.items() if c["status"] == "COPY_STATUS_ON_HOLD_SHELF")
        assert lent == on_loan, f"{book}: loans and catalog disagree on the copies on loan: {state}"
        assert shelved == on_shelf, f"{book}: holds and catalog disagree on the hold shelf: {state}"
        held_in_transit = sorted(
            name for name, c in by_name.items() if c["status"] == "COPY_STATUS_IN_TRANSIT" and c.get("current_hold")
        )
        assert on_the_way == held_in_transit, f"{book}: holds and catalog disagree on the copies in transit: {state}"
        available = edge.get(f"/v1/{book}", headers=staff.headers).json()["available_copies"]
        assert available == len(copies) - len(lent) - len(shelved) - len(on_the_way), book


Call = tuple[str, str, dict[str, Any], Any]
"""(method, path, json body, account)"""


def at_once(edge_url: str, calls: list[Call]) -> list[httpx.Response]:
    """The calls sent together, each on a connection of its own; their responses in the same order. A call
    shed by admission (429) is sent again after its Retry-After, as a well-behaved client does."""

    async def send() -> list[httpx.Response]:
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=edge_url, timeout=60, limits=limits) as client:
            return list(await asyncio.gather(*(admitted(client, *call) for call in calls)))

    return asyncio.run(send())


async def admitted(client: httpx.AsyncClient, verb: str, path: str, body: dict[str, Any], who: Any) -> httpx.Response:
    while True:
        response = await client.request(verb, path, json=body, headers=who.headers)
        if response.status_code != 429:
            return response
        await asyncio.sleep(float(response.headers.get("retry-after", "1")) * (0.5 + random.random()))


def one_answer(responses: list[httpx.Response]) -> dict[str, Any]:
    """Twins of one request: each got the first call's answer, or heard it is still in progress."""
    answered = [r for r in responses if r.status_code == 200]
    pending = [r for r in responses if r.status_code == 409 and reason(r) == "REQUEST_IN_PROGRESS"]
    others = [f"{r.status_code} {r.text[:200]}" for r in responses if r not in answered and r not in pending]
    assert answered and not others, others
    assert len({r.text for r in answered}) == 1, {r.text for r in answered}
    body: dict[str, Any] = answered[0].json()
    return body


def as_loans(mesh: Any) -> tuple[catalog_pb2_grpc.CatalogServiceStub, tuple[tuple[str, str], ...]]:
    """The catalog as the loans service calls it (its mesh identity, attested by catalog's sidecar)."""
    channel = grpc.insecure_channel(mesh.app_target("catalog"))
    header = f"By={spiffe_id('catalog')};URI={spiffe_id('loans')}"
    return catalog_pb2_grpc.CatalogServiceStub(channel), (("x-forwarded-client-cert", header),)


def reserve_behind_loans_back(mesh: Any, book: str, hold: str) -> catalog_pb2.Copy:
    """What a loans process that died between the catalog's step and its own commit leaves: a copy set aside
    (IN_TRANSIT) for `hold` that loans never recorded."""
    stub, metadata = as_loans(mesh)
    return stub.ReserveCopy(catalog_pb2.ReserveCopyRequest(book=book, hold=hold), metadata=metadata, timeout=10)


@dataclass
class Outage:
    """A process killed with SIGKILL and started again: when it went down, and when the mesh served again."""

    name: str
    down_at: float
    back_at: float = float("inf")


@dataclass
class Faults:
    """kill -9 and restart of the mesh's processes (a service) or the session's (Postgres, NATS)."""

    mesh: Any
    infra: Any
    edge: httpx.Client
    staff: Any
    outages: list[Outage] = field(default_factory=list)

    def available(self) -> bool:
        """False when the session uses servers of its own (DATABASE_URL / NATS_URL): not ours to kill."""
        names = {process.name for process in self.infra.processes}
        return {"postgres", "nats"} <= names

    def crash_and_recover(self, name: str, *, down_for: float = 1.0) -> Outage:
        supervisor = self.infra if name in ("postgres", "nats") else self.mesh
        process = supervisor.process(name)
        outage = Outage(name, time.monotonic())
        self.outages.append(outage)
        process.kill()
        time.sleep(down_for)
        process.start()
        self.wait_serving()
        outage.back_at = time.monotonic()
        return outage

    def wait_serving(self, timeout: float = 90.0) -> None:
        """Until every service says SERVING and the edge answers calls that reach each one's database (a
        health check that has not run since the crash still says SERVING)."""
        for service in self.mesh.services:
            self.mesh.wait_ready(service, timeout=timeout)
        deadline = time.monotonic() + timeout
        probes = ("/v1/users/me", "/v1/books?page_size=1", "/v1/loans?page_size=1", "/v1/holds?page_size=1")
        while not all(self.edge.get(path, headers=self.staff.headers).status_code == 200 for path in probes):
            assert time.monotonic() < deadline, "the mesh did not serve again after the fault"
            time.sleep(0.2)

    def during_an_outage(self, moment: float, *, grace: float = 5.0) -> bool:
        return any(o.down_at <= moment <= o.back_at + grace for o in self.outages)
