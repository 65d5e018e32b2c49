"""Staff tools in a real browser: cataloguing a book and its copy, looking a patron up and settling a fine,
editing the circulation rules matrix, changing a role."""

from __future__ import annotations

import uuid

import httpx
import pytest
from browser_helpers import receive_hold_copy, register, sign_in
from playwright.async_api import Page, expect

pytestmark = pytest.mark.e2e


async def test_a_librarian_catalogues_a_book_with_a_copy_that_the_catalogue_then_shows(page: Page, librarian) -> None:
    title = f"Kotlovan {uuid.uuid4().hex[:6]}"
    barcode = f"38{uuid.uuid4().int % 10**10:010d}"
    await sign_in(page, librarian.email, librarian.password, next_hash="/books-new")
    await page.get_by_label("Title", exact=True).fill(title)
    await page.get_by_label("Authors").fill("Andrei Platonov")
    await page.get_by_label("Language", exact=True).fill("en")
    await page.get_by_role("button", name="Add the book").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Copies of “{title}”")
    await page.get_by_label("Barcode").fill(barcode)
    await page.get_by_role("button", name="Add the copy").click()
    await expect(page.get_by_role("listitem").filter(has_text=barcode)).to_contain_text("MAIN")  # the list's spelling

    await page.get_by_role("link", name=title).click()
    await expect(page.get_by_text("1 of 1 available")).to_be_visible()


async def test_a_librarian_finds_a_patron_by_card_and_settles_a_fine(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Ivan Goncharov")
    fine = {"patron": patron["name"], "amount": "3.50", "kind": "FINE_KIND_DAMAGED_ITEM", "description": "Coffee stain"}
    assessed = await rest.post("/v1/fines", json=fine, headers=librarian.headers)
    assert assessed.status_code == 200, assessed.text

    await sign_in(page, librarian.email, librarian.password, next_hash="/patrons")
    await page.get_by_label("Name, email, phone or card number").fill(patron["card_number"])
    await page.keyboard.press("Enter")
    await page.get_by_role("link", name="Ivan Goncharov").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ivan Goncharov")
    row = page.get_by_role("row").filter(has_text="Coffee stain")
    await expect(row).to_contain_text("3.50")
    await row.get_by_label("Amount paid").fill("3.50")
    await row.get_by_role("button", name="Pay").click()
    await expect(page.get_by_text("Payment recorded.")).to_be_visible()
    await expect(page.get_by_text("Nothing is owed.")).to_be_visible()


async def test_an_admin_edits_the_rules_matrix_and_changes_a_role(
    page: Page, rest: httpx.AsyncClient, admin, unique_email
) -> None:
    category = f"WEB{uuid.uuid4().hex[:8].upper()}"
    staff_to_be = await register(rest, unique_email(), "Vera Figner")
    await sign_in(page, admin.email, admin.password, next_hash="/rules")

    await page.get_by_label("Patron category", exact=True).fill(category)
    await page.get_by_label("Item type", exact=True).fill("BOOK")
    await page.get_by_role("button", name="Add", exact=True).click()
    await expect(page.get_by_text(f"Rule {category} / BOOK added.")).to_be_visible()
    await page.get_by_label(f"Max loans ({category} / BOOK)").fill("3")
    await page.get_by_role("row").filter(has_text=category).get_by_role("button", name="Save").click()
    await expect(page.get_by_text(f"Rule {category} / BOOK saved.")).to_be_visible()
    rules = (await rest.get("/v1/circulationRules", params={"page_size": 100}, headers=admin.headers)).json()
    (rule,) = [r for r in rules["circulation_rules"] if r["patron_category"] == category]
    assert rule["max_loans"] == 3

    await page.get_by_role("link", name="Users").click()
    await page.get_by_label("Name, email, phone or card number").fill(staff_to_be["email"])
    await page.keyboard.press("Enter")
    # The list of every account is shown until the search answers: wait for the one row it finds.
    await expect(page.get_by_role("row").filter(has_text=staff_to_be["email"])).to_have_count(1)
    await expect(page.get_by_role("row").filter(has_text="@")).to_have_count(1)
    await page.get_by_label("Role of Vera Figner").select_option("USER_ROLE_LIBRARIAN")
    await page.get_by_role("row").filter(has_text="Vera Figner").get_by_role("button", name="Save").click()
    await expect(page.get_by_text("Vera Figner: role changed.")).to_be_visible()
    user = (await rest.get(f"/v1/{staff_to_be['name']}", headers=admin.headers)).json()
    assert user["role"] == "USER_ROLE_LIBRARIAN"


async def test_the_rules_page_refuses_a_number_that_is_not_whole_instead_of_saving_zero(
    page: Page, rest: httpx.AsyncClient, admin
) -> None:
    category = f"NUM{uuid.uuid4().hex[:8].upper()}"
    rule = {"patron_category": category, "item_type": "BOOK", "loan_period_days": 21, "max_loans": 5}
    rule |= {"max_renewals": 2, "renewal_period_days": 14, "holds_allowed": True, "max_holds": 5, "hold_pickup_days": 7}
    created = await rest.post("/v1/circulationRules", json=rule, headers=admin.headers)
    assert created.status_code == 200, created.text
    name = created.json()["name"]
    patches: list[str] = []
    page.on("request", lambda r: patches.append(r.url) if r.method == "PATCH" and name in r.url else None)
    await sign_in(page, admin.email, admin.password, next_hash="/rules")
    row = page.get_by_role("row").filter(has_text=category)

    await page.get_by_label(f"Max renewals ({category} / BOOK)").fill("two")
    await page.get_by_label(f"Pickup days ({category} / BOOK)").fill("1.5")
    await row.get_by_role("button", name="Save").click()

    await expect(row.get_by_text("Enter a whole number (0 or more).")).to_have_count(2)
    await expect(page.get_by_label(f"Max renewals ({category} / BOOK)")).to_be_focused()
    await expect(page.get_by_text(f"Rule {category} / BOOK saved.")).to_have_count(0)
    stored = (await rest.get(f"/v1/{name}", headers=admin.headers)).json()
    assert (stored["max_renewals"], stored["hold_pickup_days"]) == (2, 7) and patches == []

    await page.get_by_label(f"Max renewals ({category} / BOOK)").fill("3")
    await page.get_by_label(f"Pickup days ({category} / BOOK)").fill("7")
    await row.get_by_role("button", name="Save").click()
    await expect(page.get_by_text(f"Rule {category} / BOOK saved.")).to_be_visible()
    stored = (await rest.get(f"/v1/{name}", headers=admin.headers)).json()
    assert stored["max_renewals"] == 3 and len(patches) == 1


async def test_a_patron_search_with_more_than_a_page_says_it_shows_the_first_ones(
    page: Page, rest: httpx.AsyncClient, librarian
) -> None:
    """ "55 patrons" above 50 rows, and no word of the other five: a common surname could not be reached."""
    tag = uuid.uuid4().hex[:8]
    for n in range(51):
        made = await rest.post(
            "/v1/users",
            json={"user": {"email": f"bulk-{tag}-{n}@example.org", "display_name": f"Bulk {tag} {n}"}},
            headers=librarian.headers,
        )
        assert made.status_code == 200, made.text

    await sign_in(page, librarian.email, librarian.password, next_hash="/patrons")
    await page.get_by_label("Name, email, phone or card number").fill(tag)
    await page.keyboard.press("Enter")

    await expect(page.get_by_text("51 patrons")).to_be_visible()
    await expect(page.locator("tbody tr")).to_have_count(50)
    await expect(page.get_by_text("These are the first 50: add to the search to find the others.")).to_be_visible()
    await page.get_by_role("button", name="Show more").click()  # and the other one can be reached
    await expect(page.locator("tbody tr")).to_have_count(51)
    await expect(page.get_by_test_id("paged-count")).to_have_text("Showing 51 of 51.")


async def test_a_patron_s_page_names_the_book_on_the_hold_shelf_and_speaks_to_staff(
    page: Page, rest: httpx.AsyncClient, librarian, one_copy_book, unique_email
) -> None:
    """It read "Reserved book" (which one to fetch?) and "You have no books on loan" to the librarian."""
    patron = await register(rest, unique_email(), "Sasha Chorny")
    held = await rest.post(
        "/v1/holds",
        json={"patron": patron["name"], "book": one_copy_book.name},
        headers={"authorization": f"Bearer {patron['access_token']}"},
    )
    assert held.status_code == 200 and held.json()["status"] == "HOLD_STATUS_IN_TRANSIT", held.text
    await receive_hold_copy(rest, librarian, held.json()["name"])  # on the hold shelf now

    await sign_in(page, librarian.email, librarian.password, next_hash=f"/patrons/{patron['name'].split('/')[-1]}")

    await expect(page.get_by_role("link", name=one_copy_book.title)).to_be_visible()
    await expect(page.get_by_text("No books on loan.")).to_be_visible()
    await expect(page.get_by_text("You have no")).to_have_count(0)


async def test_back_on_the_patron_search_puts_the_older_words_back_in_the_box(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    """After Back the results were the older search's, the box still said the newer words."""
    first, second = f"Sasha {uuid.uuid4().hex[:8]}", f"Kolya {uuid.uuid4().hex[:8]}"
    await register(rest, unique_email(), first)
    await register(rest, unique_email(), second)
    await sign_in(page, librarian.email, librarian.password, next_hash="/patrons")
    box = page.get_by_label("Name, email, phone or card number")
    for words in (first, second):
        await box.fill(words)
        await box.press("Enter")
        await expect(page.get_by_role("link", name=words)).to_be_visible()

    await page.go_back()

    await expect(page.get_by_role("link", name=first)).to_be_visible()
    await expect(box).to_have_value(first)


async def test_an_author_written_surname_comma_name_stays_one_author(
    page: Page, rest: httpx.AsyncClient, librarian
) -> None:
    """ "Tolstoy, Leo" became two authors, "Tolstoy" and "Leo"."""
    title = f"Khadji Murat {uuid.uuid4().hex[:6]}"
    await sign_in(page, librarian.email, librarian.password, next_hash="/books-new")
    await page.get_by_label("Title", exact=True).fill(title)
    await page.get_by_label("Authors").fill("Tolstoy, Leo; Chekhov, Anton")
    await page.get_by_role("button", name="Add the book").click()

    link = await page.get_by_role("link", name=title).get_attribute("href")
    book = await rest.get(f"/v1/books/{link.split('/')[-1]}")
    assert book.json()["authors"] == ["Tolstoy, Leo", "Chekhov, Anton"]


async def test_the_fines_page_names_the_patron_of_each_fine(
    page: Page, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    """Every row's patron column said only "Open the patron"."""
    name = f"Daniil {uuid.uuid4().hex[:8]}"
    patron = await register(rest, unique_email(), name)
    fine = {"patron": patron["name"], "amount": "0.75", "kind": "FINE_KIND_OTHER", "description": f"Lost card {name}"}
    assert (await rest.post("/v1/fines", json=fine, headers=librarian.headers)).status_code == 200

    await sign_in(page, librarian.email, librarian.password, next_hash="/fines")

    row = page.get_by_role("row").filter(has_text=f"Lost card {name}")
    await expect(row.get_by_role("link", name=name)).to_have_attribute("href", f"#/patrons/{patron['name'][6:]}")
