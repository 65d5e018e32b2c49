"""The desk's Return of a copy in transit for a hold, in a real browser. It used to be logged as a red refusal, "not
on loan … scan it in Receive for a hold", and the librarian scanned it a second time; Koha's and Evergreen's
check-in receive it themselves. Now the Return receives it: at another branch than the pickup one the log says
where to send it and for whom, at the pickup branch it says to put it on the hold shelf; both as done."""

from __future__ import annotations

import uuid

import grpc
import httpx
import pytest
from browser_helpers import register, scan, sign_in
from playwright.async_api import Locator, Page, expect

from athenaeum.users.v1 import users_pb2, users_pb2_grpc

pytestmark = pytest.mark.e2e

HOME, PICKUP = "MAIN", "EAST"


def _desk_librarian(mesh, admin, branch: str) -> tuple[str, str]:
    """A librarian whose account's home branch is `branch` (the desk's branch): email and password."""
    email, password = f"returnrecv-{branch.lower()}-{uuid.uuid4().hex[:8]}@example.org", "Desk-Duty-2024"
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


async def _return_at(page: Page, mesh, admin, branch: str, barcode: str) -> Locator:
    """The desk of `branch` in Return mode scans `barcode`: the log's newest entry."""
    await sign_in(page, *_desk_librarian(mesh, admin, branch), next_hash="/desk")
    await page.get_by_role("button", name="Return").click()
    await scan(page, "desk-barcode", barcode)
    entry = page.get_by_test_id("desk-log").locator("li").first
    await expect(entry).to_have_attribute("data-reason", "COPY_RECEIVED_FOR_HOLD")
    return entry


async def test_a_copy_in_transit_for_a_hold_returned_at_a_desk_is_sent_on_then_shelved_and_logged_as_done(
    new_context, rest: httpx.AsyncClient, mesh, admin, librarian, unique_email
) -> None:
    tag = uuid.uuid4().hex[:6]
    reader = await register(rest, unique_email(), f"Teffi Returns {tag}")
    made = await rest.post(
        "/v1/books", json={"title": f"Carousel {tag}", "authors": ["Teffi"]}, headers=librarian.headers
    )
    assert made.status_code == 200, made.text
    barcode = f"37{uuid.uuid4().int % 10**10:010d}"
    copy = {"barcode": barcode, "branch": HOME}
    added = await rest.post(f"/v1/{made.json()['name']}/copies", json=copy, headers=librarian.headers)
    assert added.status_code == 200, added.text
    body = {"patron": reader["name"], "book": made.json()["name"], "pickup_branch": PICKUP}
    placed = await rest.post("/v1/holds", json=body, headers={"authorization": f"Bearer {reader['access_token']}"})
    assert placed.status_code == 200 and placed.json()["status"] == "HOLD_STATUS_IN_TRANSIT", placed.text
    whom = f"Teffi Returns {tag} ({reader['card_number']})"

    pulled = await (await new_context()).new_page()
    entry = await _return_at(pulled, mesh, admin, HOME, barcode)
    await expect(entry).to_have_class("transit")
    await expect(entry).to_have_text(
        f"{barcode} is on its way for a hold: send it to {PICKUP}, where {whom} picks it up."
    )
    await expect(pulled.get_by_role("alert")).to_have_count(0)

    arrived = await (await new_context()).new_page()
    entry = await _return_at(arrived, mesh, admin, PICKUP, barcode)
    await expect(entry).to_have_class("shelf")
    said = f"{barcode} was on its way for a hold and is received here: put it on the hold shelf for {whom}"
    said += " (the reader is told)."
    await expect(entry).to_have_text(said)
    await expect(arrived.get_by_role("alert")).to_have_count(0)
    hold = await rest.get(f"/v1/{placed.json()['name']}", headers=librarian.headers)
    assert hold.json()["status"] == "HOLD_STATUS_READY", hold.text
