"""What the server says in codes is said in the page's words (F8), a late return tells the desk how late and the
fine (F5), and the audit trail says who did what to a patron or a copy (F7)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import sqlalchemy as sa
from browser_helpers import register, scan, sign_in
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import create_async_engine

pytestmark = pytest.mark.e2e


async def _overdue_loan(rest: httpx.AsyncClient, mesh, librarian, patron: dict, barcode: str, days: int) -> dict:
    """A loan of `barcode` to `patron` whose due time passed `days` days ago (moved back in the loans database)."""
    body = {"patron": patron["name"], "barcode": barcode}
    issued = await rest.post("/v1/loans:issue", json=body, headers=librarian.headers)
    assert issued.status_code == 200, issued.text
    loan = issued.json()
    engine = create_async_engine(mesh.database_url("loans"))
    try:
        async with engine.begin() as connection:
            await connection.execute(
                sa.text("UPDATE loans SET due_at = now() - make_interval(days => :days) WHERE id = :id"),
                {"days": days, "id": loan["name"].split("/")[-1]},
            )
    finally:
        await engine.dispose()
    return loan


async def _stored_events(rest: httpx.AsyncClient, staff, resource: str, event_type: str) -> None:
    """Wait until the events service has stored an event of `event_type` about `resource` (it stores them shortly
    after they are published)."""
    deadline = time.monotonic() + 20
    query = {"filter": f'resource = "{resource}"', "type": event_type, "category": "EVENT_CATEGORY_AUDIT"}
    while not (await rest.get("/v1/events", params=query, headers=staff.headers)).json().get("events"):
        assert time.monotonic() < deadline, f"no {event_type} about {resource} was stored"
        await asyncio.sleep(0.3)


async def test_a_late_return_tells_the_desk_how_late_and_the_fine_charged(
    page: Page, rest: httpx.AsyncClient, mesh, librarian, one_copy_book, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Mikhail Zoshchenko")
    barcode = one_copy_book.barcodes[0]
    await _overdue_loan(rest, mesh, librarian, patron, barcode, days=6)
    await sign_in(page, librarian.email, librarian.password, next_hash="/desk")
    await page.get_by_role("button", name="Return").click()
    await scan(page, "desk-barcode", barcode)
    log = page.get_by_test_id("desk-log")
    await expect(log.locator("li.ok").first).to_contain_text(f"Returned “{one_copy_book.title}”")
    late = log.locator("li.late")
    await expect(late).to_contain_text("late")
    await expect(late).to_contain_text("Overdue fine:")
    fines = (await rest.get(f"/v1/{patron['name']}/fines", headers=librarian.headers)).json()
    (fine,) = fines["fines"]
    assert fine["kind"] == "FINE_KIND_OVERDUE"
    await expect(late).to_contain_text(fine["amount"])


async def test_a_russian_page_says_an_overdue_fine_and_a_closed_account_in_russian(
    new_context, rest: httpx.AsyncClient, mesh, librarian, one_copy_book, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Daniil Kharms")
    barcode = one_copy_book.barcodes[0]
    await _overdue_loan(rest, mesh, librarian, patron, barcode, days=3)
    returned = await rest.post("/v1/loans:return", json={"barcode": barcode}, headers=librarian.headers)
    assert returned.status_code == 200, returned.text

    reader = await (await new_context(locale="ru-RU")).new_page()
    await sign_in_ru(reader, patron)
    fines = reader.get_by_test_id("fines")
    await expect(fines).to_contain_text(f"Просрочка: {one_copy_book.title}")
    await expect(fines).not_to_contain_text("overdue")

    leaving = await register(rest, unique_email(), "Sasha Chorny")  # owes nothing, has nothing out: may be closed
    closed = await rest.delete(f"/v1/{leaving['name']}", headers=librarian.headers)
    assert closed.status_code == 200, closed.text
    desk = await (await new_context(locale="ru-RU")).new_page()
    await sign_in_ru(desk, librarian)
    await desk.goto("/#/desk")
    await scan(desk, "desk-card", leaving["card_number"])
    await scan(desk, "desk-barcode", barcode)
    refusal = desk.get_by_test_id("desk-log").locator("li.refused")
    await expect(refusal).to_contain_text("Читателю сейчас нельзя выдавать книги: абонемент закрыт.")
    await expect(refusal).not_to_contain_text("account closed")


async def test_a_blocked_readers_refusal_at_a_russian_desk_keeps_only_the_staff_reason_as_typed(
    new_context, rest: httpx.AsyncClient, librarian, library, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Andrei Platonov")
    blocked = await rest.patch(
        f"/v1/{patron['name']}",
        params={"update_mask": "status,status_reason"},
        json={"status": "USER_STATUS_BLOCKED", "status_reason": "Повреждённая книга"},
        headers=librarian.headers,
    )
    assert blocked.status_code == 200, blocked.text
    desk = await (await new_context(locale="ru-RU")).new_page()
    await sign_in_ru(desk, librarian)
    await desk.goto("/#/desk")
    await scan(desk, "desk-card", patron["card_number"])
    await scan(desk, "desk-barcode", library["Heart of a Dog"].barcodes[0])
    refusal = desk.get_by_test_id("desk-log").locator("li.refused")
    await expect(refusal).to_contain_text("абонемент заблокирован (Повреждённая книга)")
    await expect(refusal).not_to_contain_text("blocked")


async def test_the_russian_contact_form_names_the_bad_phone_and_refuses_sms_without_one(
    new_context, rest: httpx.AsyncClient, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Velimir Khlebnikov")
    page = await (await new_context(locale="ru-RU")).new_page()
    await sign_in_ru(page, patron)
    await page.locator("#pref-phone").fill("12345")
    await page.get_by_role("button", name="Сохранить").click()
    await expect(page.locator("#pref-phone-error")).to_contain_text("в международном формате")

    await page.locator("#pref-phone").fill("")
    await page.get_by_label("Присылать SMS").check()
    await page.get_by_role("button", name="Сохранить").click()
    await expect(page.locator("#pref-phone-error")).to_contain_text("Без номера телефона SMS отправить нельзя")
    await expect(page.get_by_text("Сохранено.")).to_have_count(0)
    user = (await rest.get("/v1/users/me", headers={"authorization": f"Bearer {patron['access_token']}"})).json()
    assert not user.get("notification_preferences", {}).get("sms_opt_in"), "nothing was saved"


async def test_the_audit_trail_of_a_patron_and_of_a_copy_names_who_did_it(
    page: Page, rest: httpx.AsyncClient, librarian, one_copy_book, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Yevgeny Zamyatin")
    blocked = await rest.patch(
        f"/v1/{patron['name']}",
        params={"update_mask": "status,status_reason"},
        json={"status": "USER_STATUS_BLOCKED", "status_reason": "Lost card"},
        headers=librarian.headers,
    )
    assert blocked.status_code == 200, blocked.text
    await _stored_events(rest, librarian, patron["name"], "athenaeum.users.user_status_changed")
    me = (await rest.get("/v1/users/me", headers=librarian.headers)).json()

    await sign_in(page, librarian.email, librarian.password, next_hash=f"/patrons/{patron['name'].split('/')[-1]}")
    await page.get_by_role("link", name="What happened to this account (audit trail)").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
    row = page.get_by_test_id("audit").get_by_role("row").filter(has_text="Account status changed")
    await expect(row).to_contain_text(me["display_name"] or me["email"])
    await expect(row.get_by_role("link", name=me["display_name"] or me["email"])).to_have_attribute(
        "href", f"#/patrons/{librarian.name.split('/')[-1]}"
    )

    copies = (await rest.get(f"/v1/{one_copy_book.name}/copies")).json()["copies"]
    await _stored_events(rest, librarian, copies[0]["name"], "athenaeum.catalog.copy_created")
    await page.goto(f"/#/books/{one_copy_book.id}")
    await page.get_by_role("link", name=f"Audit trail of copy {one_copy_book.barcodes[0]}").click()
    await expect(page.get_by_test_id("audit").get_by_role("row").filter(has_text="Copy added")).to_have_count(1)


async def sign_in_ru(page: Page, account) -> None:
    """The sign-in form of a Russian page (its labels are Russian)."""
    if isinstance(account, dict):
        email, password = account["email"], account["password"]
    else:
        email, password = account.email, account.password
    await page.goto("/#/signin")
    await page.locator("input[type=email]").fill(email)
    await page.locator("input[type=password]").fill(password)
    await page.locator("form button[type=submit]").click()
    await page.wait_for_function("() => !location.hash.startsWith('#/signin')")
