"""Copies left on a hold shelf by a hold that ended, sent home, in a real browser. The hold shelf's *To send home*
list showed the first 100 copies only, with no count, no "Show more", and "Open the book" for every title (finding
D9); now it pages as the other staff lists do and names each book. The copy scanned back at its own branch's desk
was logged as a red "refused" alert though the server had put it back in stock (finding D3): now it reads as done,
"back at MAIN: put it on its open shelf"."""

from __future__ import annotations

import uuid

import grpc
import httpx
import pytest
import sqlalchemy as sa
from browser_helpers import register, scan, sign_in
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import create_async_engine

from athenaeum.users.v1 import users_pb2, users_pb2_grpc

pytestmark = pytest.mark.e2e

HOME, SHELF = "MAIN", "NORTH"  # NORTH: a branch of the e2e library (E2E_LIBRARY_BRANCHES) no other test uses


def _desk_librarian(mesh, edge: httpx.Client, admin, branch: str) -> tuple[str, str]:
    """A librarian whose account's home branch is `branch` (the desk's branch): email and password."""
    email, password = f"sendhome-{branch.lower()}-{uuid.uuid4().hex[:8]}@example.org", "Desk-Duty-2024"
    user = users_pb2.User(
        email=email,
        display_name=f"Desk {branch}",
        role=users_pb2.USER_ROLE_LIBRARIAN,
        patron_category="STAFF",
        home_branch=branch,
    )
    with grpc.insecure_channel(mesh.edge_grpc_target) as channel:
        users_pb2_grpc.UsersServiceStub(channel).CreateUser(
            users_pb2.CreateUserRequest(user=user, password=password), metadata=admin.metadata, timeout=10
        )
    return email, password


async def _book(rest: httpx.AsyncClient, staff, title: str, copies: int) -> tuple[str, list[str]]:
    made = await rest.post("/v1/books", json={"title": title, "authors": ["Ivan Bunin"]}, headers=staff.headers)
    assert made.status_code == 200, made.text
    barcodes = []
    for _ in range(copies):
        barcode = f"39{uuid.uuid4().int % 10**10:010d}"
        copy = {"barcode": barcode, "branch": HOME}
        added = await rest.post(f"/v1/{made.json()['name']}/copies", json=copy, headers=staff.headers)
        assert added.status_code == 200, added.text
        barcodes.append(barcode)
    return made.json()["name"], barcodes


async def _received(rest: httpx.AsyncClient, staff, barcode: str, branch: str) -> dict:
    answer = await rest.post("/v1/holds:receive", json={"barcode": barcode, "branch": branch}, headers=staff.headers)
    assert answer.status_code == 200, answer.text
    hold: dict = answer.json()
    return hold


async def _sent_home_from_the_shelf(rest: httpx.AsyncClient, staff, reader: dict, title: str) -> str:
    """A MAIN copy pulled for `reader`'s hold, brought to NORTH's hold shelf, the hold then cancelled by the
    reader: the copy is to be sent home from NORTH. Its barcode."""
    book, (barcode,) = await _book(rest, staff, title, 1)
    placed = await rest.post(
        "/v1/holds",
        json={"patron": reader["name"], "book": book, "pickup_branch": SHELF},
        headers={"authorization": f"Bearer {reader['access_token']}"},
    )
    assert placed.status_code == 200, placed.text
    await _received(rest, staff, barcode, HOME)  # pulled at MAIN, in the van to NORTH
    assert (await _received(rest, staff, barcode, SHELF))["status"] == "HOLD_STATUS_READY"
    cancelled = await rest.post(
        f"/v1/{placed.json()['name']}:cancel",
        json={"reason": "cancelled by the patron"},
        headers={"authorization": f"Bearer {reader['access_token']}"},
    )
    assert cancelled.status_code == 200, cancelled.text
    copy = (await rest.get("/v1/copies:lookup", params={"barcode": barcode}, headers=staff.headers)).json()
    assert copy["sent_home_from"] == SHELF, copy
    return barcode


async def _more_sent_home(mesh, barcodes: list[str]) -> None:
    """Puts `barcodes` in the state a cancelled hold leaves at NORTH (a hundred holds through the API is slow)."""
    engine = create_async_engine(mesh.database_url("catalog"))
    try:
        async with engine.begin() as connection:
            await connection.execute(
                sa.text("UPDATE copies SET status = 'IN_TRANSIT', sent_home_from = :shelf WHERE barcode = ANY(:codes)"),
                {"shelf": SHELF, "codes": barcodes},
            )
    finally:
        await engine.dispose()


async def test_to_send_home_pages_names_each_book_and_the_copy_received_home_is_done_not_refused(
    page: Page, new_context, rest: httpx.AsyncClient, mesh, edge: httpx.Client, admin, librarian, unique_email
) -> None:
    tag = uuid.uuid4().hex[:6]
    title = f"The Winter Keeper {tag}"
    reader = await register(rest, unique_email(), f"Reader {tag}")
    barcode = await _sent_home_from_the_shelf(rest, librarian, reader, title)
    _, others = await _book(rest, librarian, f"Filler {tag}", 100)
    await _more_sent_home(mesh, others)
    query = {"filter": f'sent_home_from = "{SHELF}"', "page_size": 1}
    total = (await rest.get("/v1/books/-/copies", params=query, headers=librarian.headers)).json()["total_size"]
    assert total >= 101

    await sign_in(page, *_desk_librarian(mesh, edge, admin, SHELF), next_hash="/holdshelf")
    listed = page.get_by_test_id("send-home")
    await expect(listed.locator("tbody tr")).to_have_count(100)
    counted = page.get_by_test_id("send-home-count").get_by_test_id("paged-count")
    await expect(counted).to_have_text(f"Showing 100 of {total:,}.")
    await page.get_by_test_id("send-home-count").get_by_role("button", name="Show all").click()
    await expect(listed.locator("tbody tr")).to_have_count(total)
    row = listed.locator("tbody tr", has_text=barcode)
    await expect(row.get_by_role("link", name=title)).to_be_visible()  # not "Open the book"
    await expect(row).to_contain_text(HOME)
    await expect(listed.get_by_role("link", name=f"Filler {tag}").first).to_be_visible()

    # Scanned back at MAIN's desk: the server put it back in stock; the log says so, as done.
    home_page = await (await new_context()).new_page()
    await sign_in(home_page, *_desk_librarian(mesh, edge, admin, HOME), next_hash="/pulllist")
    await scan(home_page, "receive-barcode", barcode)
    entry = home_page.get_by_test_id("receive-log").locator("li").first
    await expect(entry).to_have_attribute("data-reason", "COPY_RECEIVED_HOME")
    await expect(entry).to_have_class("ok")
    said = f"{barcode}: back at {HOME} and available (nobody waiting took it): put it on its open shelf."
    await expect(entry).to_have_text(said)
    await expect(home_page.get_by_role("alert")).to_have_count(0)
    copy = (await rest.get("/v1/copies:lookup", params={"barcode": barcode}, headers=librarian.headers)).json()
    assert (copy["status"], copy.get("sent_home_from", "")) == ("COPY_STATUS_AVAILABLE", "")
