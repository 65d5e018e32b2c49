"""The hold shelf and the pull list follow the branch they show (finding B8): the hold shelf lists the librarian's
own branch first (a filter, as on the pull list), a pickup branch typed in another letter case shows as the
branch the page uses, the count under either list is of that branch's rows (it said "Showing 4 of 4" under one
row), and every branch the library's holds name can be chosen, though each list holds only its branch's rows."""

from __future__ import annotations

import uuid

import grpc
import httpx
import pytest
from browser_helpers import register, sign_in
from playwright.async_api import Page, expect

from athenaeum.users.v1 import users_pb2, users_pb2_grpc

pytestmark = pytest.mark.e2e


def _librarian_at(mesh, edge: httpx.Client, admin, branch: str) -> tuple[str, str, dict[str, str]]:
    """A librarian whose home branch is `branch`: email, password, REST headers."""
    email, password = f"shelf-{uuid.uuid4().hex[:10]}@example.org", "Desk-Duty-2024"
    user = users_pb2.User(
        email=email, display_name=f"Desk {branch}", role=users_pb2.USER_ROLE_LIBRARIAN, home_branch=branch
    )
    with grpc.insecure_channel(mesh.edge_grpc_target) as channel:
        users_pb2_grpc.UsersServiceStub(channel).CreateUser(
            users_pb2.CreateUserRequest(user=user, password=password), metadata=admin.metadata, timeout=10
        )
    signed_in = edge.post("/v1/auth/login", json={"email": email, "password": password})
    assert signed_in.status_code == 200, signed_in.text
    return email, password, {"authorization": f"Bearer {signed_in.json()['tokens']['access_token']}"}


async def _held_copy(rest: httpx.AsyncClient, staff: dict[str, str], patron: dict, branch: str, pickup: str) -> str:
    """A book with one copy at `branch`, held by `patron` for `pickup` (IN_TRANSIT: on the pull list)."""
    tag = uuid.uuid4().hex[:6]
    made = await rest.post("/v1/books", json={"title": f"Two Branches {tag}", "authors": ["A. B"]}, headers=staff)
    assert made.status_code == 200, made.text
    copy = {"barcode": f"39{uuid.uuid4().int % 10**10:010d}", "branch": branch}
    assert (await rest.post(f"/v1/{made.json()['name']}/copies", json=copy, headers=staff)).status_code == 200
    body = {"patron": patron["name"], "book": made.json()["name"], "pickup_branch": pickup}
    held = await rest.post("/v1/holds", json=body, headers={"authorization": f"Bearer {patron['access_token']}"})
    assert held.status_code == 200 and held.json()["status"] == "HOLD_STATUS_IN_TRANSIT", held.text
    return copy["barcode"]


async def test_the_hold_shelf_and_the_pull_list_count_what_they_show_at_the_librarian_s_branch(
    page: Page, rest: httpx.AsyncClient, mesh, edge: httpx.Client, admin, unique_email
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    here, there = "SHELFHERE", "SHELFTHERE"  # the library's (E2E_LIBRARY_BRANCHES), used by this test only
    email, password, staff = _librarian_at(mesh, edge, admin, here)
    reader = await register(rest, unique_email(), f"Reader {tag}")
    other = await register(rest, unique_email(), f"Other {tag}")
    # One READY here (its pickup branch typed in lower case), one READY at the other branch, one to pull there.
    for patron, branch, pickup in ((reader, here, here.lower()), (other, there, there)):
        barcode = await _held_copy(rest, staff, patron, branch, pickup)
        received = await rest.post("/v1/holds:receive", json={"barcode": barcode, "branch": pickup}, headers=staff)
        assert received.json()["status"] == "HOLD_STATUS_READY", received.text
    await _held_copy(rest, staff, other, there, there)

    await sign_in(page, email, password, next_hash="/holdshelf")
    await expect(page.get_by_label("Branch", exact=True)).to_have_value(here)
    shelf = page.get_by_test_id("holdshelf")
    await expect(shelf.locator("tr[data-hold]")).to_have_count(1)
    await expect(shelf).to_contain_text(f"Reader {tag}")
    await expect(shelf).not_to_contain_text(f"Other {tag}")
    await expect(shelf.locator("tr[data-hold] td").nth(3)).to_have_text(here)  # not "e…": as the page spells it
    count = page.get_by_test_id("paged-count")
    await expect(count).to_have_text("Showing 1 of 1.")  # the branch's own: the server filters by branch
    await page.get_by_label("Branch", exact=True).select_option(there)
    await expect(shelf).to_contain_text(f"Other {tag}")
    await expect(shelf).not_to_contain_text(f"Reader {tag}")

    await page.goto("/#/pulllist")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Pull list")
    await expect(page.get_by_label("Branch", exact=True)).to_have_value(here)
    await expect(page.get_by_text(f"Nothing to fetch at {here}.")).to_be_visible()
    await page.get_by_label("Branch", exact=True).select_option(there)
    await expect(count.first).to_have_text("Showing 1 of 1.")
