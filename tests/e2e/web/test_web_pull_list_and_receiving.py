"""The pull list and receiving a copy set aside for a hold, in a real browser. A hold placed while a copy stands
on the open shelf was READY at once ("waiting on the hold shelf" though nobody had fetched it); now the copy is
set aside (IN_TRANSIT): the pull list names it for the librarian of its branch (barcode, call number, shelf),
scanned at the hold's pickup branch it goes on the hold shelf (READY) and the hold shelf page lists it, scanned
at another branch the librarian is told where to send it. A return at one branch for a hold picked up at
another says "send it to". The reader sees the copy on its way, with no pickup deadline yet."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import grpc
import httpx
import pytest
from browser_helpers import register, scan, screenshot, sign_in
from playwright.async_api import Page, expect

from athenaeum.users.v1 import users_pb2, users_pb2_grpc

pytestmark = pytest.mark.e2e

MAIN, EAST = "PULLMAIN", "PULLEAST"  # this file's own two branches of the e2e library (E2E_LIBRARY_BRANCHES)
IN_TRANSIT, READY = "HOLD_STATUS_IN_TRANSIT", "HOLD_STATUS_READY"


@dataclass(frozen=True)
class DeskStaff:
    """A librarian whose account's home branch is the branch of the desk they work at."""

    email: str
    password: str
    access_token: str
    branch: str

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.access_token}"}


def _librarian_at(mesh, edge: httpx.Client, admin, branch: str) -> DeskStaff:
    email, password = f"desk-{branch}-{uuid.uuid4().hex[:10]}@example.org", "Desk-Duty-2024"
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
    signed_in = edge.post("/v1/auth/login", json={"email": email, "password": password})
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["home_branch"] == branch
    return DeskStaff(email, password, signed_in.json()["tokens"]["access_token"], branch)


@pytest.fixture(scope="module")
def desks(mesh, edge: httpx.Client, admin) -> dict[str, DeskStaff]:
    """A librarian at each of this file's two branches."""
    return {branch: _librarian_at(mesh, edge, admin, branch) for branch in (MAIN, EAST)}


async def _book(rest: httpx.AsyncClient, staff: DeskStaff, title: str, **copy: str) -> tuple[str, str]:
    """A book of its own with one copy (`copy`: branch, call_number, shelf_location); its name and barcode."""
    made = await rest.post("/v1/books", json={"title": title, "authors": ["Ivan Bunin"]}, headers=staff.headers)
    assert made.status_code == 200, made.text
    barcode = f"38{uuid.uuid4().int % 10**10:010d}"
    added = await rest.post(
        f"/v1/{made.json()['name']}/copies", json={"barcode": barcode, **copy}, headers=staff.headers
    )
    assert added.status_code == 200, added.text
    return made.json()["name"], barcode


async def _hold(rest: httpx.AsyncClient, patron: dict, book: str, pickup: str) -> dict:
    body = {"patron": patron["name"], "book": book, "pickup_branch": pickup}
    held = await rest.post("/v1/holds", json=body, headers={"authorization": f"Bearer {patron['access_token']}"})
    assert held.status_code == 200, held.text
    hold: dict = held.json()
    return hold


async def _status(rest: httpx.AsyncClient, staff: DeskStaff, name: str) -> str:
    status: str = (await rest.get(f"/v1/{name}", headers=staff.headers)).json()["status"]
    return status


async def test_the_pull_list_names_the_copy_to_fetch_and_receiving_it_at_the_pickup_branch_shelves_it(
    page: Page, rest: httpx.AsyncClient, desks: dict[str, DeskStaff], unique_email, screenshot_dir
) -> None:
    tag = uuid.uuid4().hex[:6]
    desk = desks[MAIN]
    reader = await register(rest, unique_email(), f"Anna Akhmatova {tag}")
    other = await register(rest, unique_email(), f"Ivan Goncharov {tag}")
    title = f"Evening {tag}"
    book, barcode = await _book(
        rest, desk, title, branch=MAIN, call_number=f"891.71 AKH {tag}", shelf_location="Stack 3, shelf B"
    )
    east_book, _ = await _book(rest, desk, f"Oblomov {tag}", branch=EAST, call_number=f"891.73 GON {tag}")
    _, unheld = await _book(rest, desk, f"Rosary {tag}", branch=MAIN)
    hold = await _hold(rest, reader, book, MAIN)
    east_hold = await _hold(rest, other, east_book, EAST)
    assert (hold["status"], east_hold["status"]) == (IN_TRANSIT, IN_TRANSIT)  # not READY: nobody fetched it yet
    assert not hold.get("expire_time")

    await sign_in(page, desk.email, desk.password, next_hash="/pulllist")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Pull list")
    await expect(page.get_by_label("Branch", exact=True)).to_have_value(MAIN)  # the librarian's own branch
    listed = page.get_by_test_id("pulllist")
    row = listed.locator(f'tr[data-hold="{hold["name"]}"]')
    for text in (barcode, f"891.71 AKH {tag}", "Stack 3, shelf B", f"Anna Akhmatova {tag}", reader["card_number"]):
        await expect(row).to_contain_text(text)
    await expect(row.get_by_role("link", name=title)).to_be_visible()
    await expect(listed.locator(f'tr[data-hold="{east_hold["name"]}"]')).to_have_count(0)  # east's shelves

    await page.get_by_label("Branch", exact=True).select_option(label="All branches")
    await expect(listed.locator(f'tr[data-hold="{east_hold["name"]}"]')).to_contain_text(f"891.73 GON {tag}")
    order = await listed.locator("tr[data-hold]").evaluate_all("(rows) => rows.map((row) => row.dataset.hold)")
    assert order.index(east_hold["name"]) < order.index(hold["name"])  # by the copy's branch: east, then main

    # Fetched from the shelf and scanned here, at the pickup branch: onto the hold shelf, and off the pull list.
    await scan(page, "receive-barcode", barcode)
    log = page.get_by_test_id("receive-log")
    await expect(log.locator("li.shelf").first).to_contain_text(
        f"Put “{title}” ({barcode}) on the hold shelf for Anna Akhmatova {tag} ({reader['card_number']})"
    )
    await expect(page.locator("#receive-barcode")).to_be_focused()
    await expect(row).to_have_count(0)
    await screenshot(page, screenshot_dir, "pulllist")
    received = (await rest.get(f"/v1/{hold['name']}", headers=desk.headers)).json()
    assert received["status"] == READY and received["expire_time"]

    # A barcode no copy has, and a copy set aside for nobody: refused, with what to do next.
    await scan(page, "receive-barcode", f"NO-SUCH-{tag}")
    refused = log.locator("li.refused").first
    await expect(refused).to_have_attribute("data-reason", "BARCODE_NOT_FOUND")
    await expect(refused).to_contain_text("Check the barcode on the label and scan it again")
    await scan(page, "receive-barcode", unheld)
    await expect(log.locator("li.refused").first).to_have_attribute("data-reason", "COPY_NOT_HELD")
    await expect(log.locator("li.refused").first).to_contain_text("otherwise put it back on its shelf")

    await page.get_by_role("link", name="Hold shelf").click()
    await expect(page.get_by_test_id("holdshelf").locator(f'tr[data-hold="{hold["name"]}"]')).to_contain_text(barcode)


async def test_a_copy_received_at_another_branch_is_sent_on_and_its_reader_sees_it_on_its_way(
    new_context, rest: httpx.AsyncClient, desks: dict[str, DeskStaff], unique_email
) -> None:
    tag = uuid.uuid4().hex[:6]
    reader = await register(rest, unique_email(), f"Nadezhda Teffi {tag}")
    title = f"Humoresques {tag}"
    book, barcode = await _book(rest, desks[MAIN], title, branch=MAIN, call_number=f"891.73 TEF {tag}")
    hold = await _hold(rest, reader, book, EAST)
    assert hold["status"] == IN_TRANSIT

    reading = await (await new_context()).new_page()
    await sign_in(reading, reader["email"], reader["password"], next_hash="/account")
    mine = reading.get_by_test_id("holds").locator(f'[data-status="{IN_TRANSIT}"]')
    await expect(mine).to_contain_text(title)
    await expect(mine).to_contain_text("A copy is being fetched for you.")
    await expect(mine).to_contain_text(f"on its way to the hold shelf at {EAST}")
    await expect(mine).not_to_contain_text("until")  # no pickup deadline before it is on the hold shelf
    await reading.get_by_role("button", name="RU").click()
    await expect(mine).to_contain_text("Экземпляр для вас уже в пути.")
    await expect(mine).to_contain_text(f"Скоро он будет на полке броней в {EAST}")

    # Fetched at main, whose desk is not the pickup branch: "send it to east"; the hold is still in transit, now
    # on its way (off main's list of copies to pull, on east's of copies coming in).
    desk = await (await new_context()).new_page()
    await sign_in(desk, desks[MAIN].email, desks[MAIN].password, next_hash="/desk")
    await desk.get_by_role("button", name="Receive for a hold").click()
    await scan(desk, "desk-barcode", barcode)
    log = desk.get_by_test_id("desk-log")
    await expect(log.locator("li.transit").first).to_contain_text(
        f"Send “{title}” ({barcode}) to {EAST}: it is held for Nadezhda Teffi {tag} ({reader['card_number']})"
    )
    await expect(desk.locator("#desk-barcode")).to_be_focused()
    assert await _status(rest, desks[MAIN], hold["name"]) == IN_TRANSIT
    assert not (await rest.get(f"/v1/{hold['name']}", headers=desks[MAIN].headers)).json().get("to_pull")

    # It arrives at east and is scanned there: on the hold shelf, and the reader sees it ready.
    arrival = await (await new_context()).new_page()
    await sign_in(arrival, desks[EAST].email, desks[EAST].password, next_hash="/pulllist")
    row = f'tr[data-hold="{hold["name"]}"]'
    await expect(arrival.get_by_test_id("pulllist-incoming").locator(row)).to_contain_text(barcode)
    await expect(arrival.locator(f'[data-testid="pulllist"] {row}')).to_have_count(0)
    await scan(arrival, "receive-barcode", barcode)
    await expect(arrival.get_by_test_id("receive-log").locator("li.shelf").first).to_contain_text(
        f"Put “{title}” ({barcode}) on the hold shelf for Nadezhda Teffi {tag}"
    )
    assert await _status(rest, desks[EAST], hold["name"]) == READY
    await reading.get_by_role("button", name="EN").click()
    await reading.reload()
    await expect(reading.get_by_test_id("holds").locator(f'[data-status="{READY}"]')).to_contain_text(
        "Ready for pickup!"
    )


async def test_a_return_for_a_hold_picked_up_at_another_branch_says_where_to_send_the_copy(
    page: Page, rest: httpx.AsyncClient, desks: dict[str, DeskStaff], unique_email
) -> None:
    tag = uuid.uuid4().hex[:6]
    desk = desks[MAIN]
    borrower = await register(rest, unique_email(), f"Sasha Chorny {tag}")
    waiting = await register(rest, unique_email(), f"Zinaida Gippius {tag}")
    title = f"Satires {tag}"
    book, barcode = await _book(rest, desk, title, branch=MAIN)
    issued = await rest.post(
        "/v1/loans:issue", json={"patron": borrower["name"], "barcode": barcode}, headers=desk.headers
    )
    assert issued.status_code == 200, issued.text
    hold = await _hold(rest, waiting, book, EAST)
    assert hold["status"] == "HOLD_STATUS_WAITING"

    await sign_in(page, desk.email, desk.password, next_hash="/desk")
    await page.get_by_role("button", name="Return").click()
    await scan(page, "desk-barcode", barcode)
    log = page.get_by_test_id("desk-log")
    await expect(log.locator("li.ok").first).to_contain_text(f"Returned “{title}”")
    await expect(log.locator("li.transit")).to_contain_text(
        f"Send it to {EAST} for a hold: it is reserved for Zinaida Gippius {tag} ({waiting['card_number']})"
    )
    await expect(log.locator("li.shelf")).to_have_count(0)  # not this desk's hold shelf
    assert await _status(rest, desk, hold["name"]) == IN_TRANSIT
    copy = (await rest.get("/v1/copies:lookup", params={"barcode": barcode}, headers=desk.headers)).json()
    assert (copy["status"], copy["current_hold"]) == ("COPY_STATUS_IN_TRANSIT", hold["name"])

    # Sent by this desk: not on main's list of copies to pull from its shelves, but on east's coming in.
    row = f'tr[data-hold="{hold["name"]}"]'
    await page.goto("/#/pulllist")
    await expect(page.get_by_role("heading", name="On the way here")).to_be_visible()
    await expect(page.locator(f"table {row}")).to_have_count(0)
    await page.get_by_label("Branch", exact=True).select_option(label=EAST)
    await expect(page.get_by_test_id("pulllist-incoming").locator(row)).to_contain_text(barcode)
    await expect(page.locator(f'[data-testid="pulllist"] {row}')).to_have_count(0)

    await page.goto(f"/#/patrons/{waiting['name'].split('/')[-1]}")
    await expect(page.get_by_role("listitem").filter(has_text=title)).to_contain_text(
        f"being fetched (on its way to {EAST})"
    )


async def test_the_desk_warns_a_librarian_with_no_home_branch_in_return_and_receive_modes(
    page: Page, librarian
) -> None:
    """Returns with no branch put a copy for any hold on this desk's hold shelf: the desk says so, as Receive does."""
    await sign_in(page, librarian.email, librarian.password, next_hash="/desk")
    warning = page.get_by_test_id("desk-no-branch")
    await expect(warning).to_have_count(0)  # Issue mode: no branch needed
    await page.get_by_role("button", name="Return").click()
    await expect(warning).to_contain_text("Your account names no branch")
    await expect(warning).to_contain_text("goes on this desk's hold shelf")
    await page.get_by_role("button", name="Receive for a hold").click()
    await expect(warning).to_contain_text("ask an administrator to set your home branch")


async def test_a_copy_not_found_is_reported_missing_and_a_ready_hold_s_copy_is_pulled_from_its_hold_shelf(
    page: Page, rest: httpx.AsyncClient, desks: dict[str, DeskStaff], unique_email
) -> None:
    tag = uuid.uuid4().hex[:6]
    desk, east = desks[MAIN], desks[EAST]
    first = await register(rest, unique_email(), f"Marina Tsvetaeva {tag}")
    second = await register(rest, unique_email(), f"Boris Pasternak {tag}")
    title = f"Mileposts {tag}"
    book, barcode = await _book(rest, desk, title, branch=MAIN, call_number=f"891.71 TSV {tag}")
    hold = await _hold(rest, first, book, MAIN)
    shelved_book, shelved = await _book(rest, desk, f"Zhivago {tag}", branch=MAIN, shelf_location="Stack 9")
    ready = await _hold(rest, first, shelved_book, EAST)
    received = await rest.post("/v1/holds:receive", json={"barcode": shelved, "branch": EAST}, headers=east.headers)
    assert received.status_code == 200 and received.json()["status"] == READY, received.text
    passed_on = await _hold(rest, second, shelved_book, MAIN)
    cancelled = await rest.post(f"/v1/{ready['name']}:cancel", json={}, headers=east.headers)
    assert cancelled.status_code == 200, cancelled.text

    await sign_in(page, desk.email, desk.password, next_hash="/pulllist")
    await page.get_by_label("Branch", exact=True).select_option(label="All branches")
    listed = page.get_by_test_id("pulllist")
    # The cancelled READY hold's copy sits on east's hold shelf: pulled there, not from main's Stack 9.
    from_shelf = listed.locator(f'tr[data-hold="{passed_on["name"]}"]')
    await expect(from_shelf).to_contain_text(f"On the hold shelf at {EAST}")
    await expect(from_shelf).not_to_contain_text("Stack 9")

    row = listed.locator(f'tr[data-hold="{hold["name"]}"]')
    page.once("dialog", lambda dialog: dialog.accept())
    await row.get_by_role("button", name=f"Report the copy {barcode} missing").click()
    await expect(page.get_by_role("status").filter(has_text="marked missing")).to_contain_text(
        f"{barcode} is marked missing; no other copy of “{title}” is on the shelf"
    )
    await expect(row).to_have_count(0)
    assert await _status(rest, desk, hold["name"]) == "HOLD_STATUS_WAITING"
    copies = (await rest.get(f"/v1/{book}/copies", headers=desk.headers)).json()["copies"]
    assert [copy["status"] for copy in copies] == ["COPY_STATUS_LOST"]
