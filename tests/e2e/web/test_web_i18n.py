"""A Russian page speaks Russian also when the server refuses something: field errors and failures."""

from __future__ import annotations

import httpx
import pytest
from browser_helpers import register, sign_in
from playwright.async_api import expect

pytestmark = pytest.mark.e2e


async def test_field_errors_of_the_registration_form_are_in_russian(new_context, unique_email) -> None:
    page = await (await new_context(locale="ru-RU")).new_page()
    await page.goto("/#/register")
    await page.locator("#reg-email").fill(unique_email())
    await page.locator("#reg-password").fill("short")
    await page.locator("#reg-phone").fill("12")
    await page.locator("form button[type=submit]").click()

    await expect(page.locator("#reg-password-error")).to_have_text("Не короче 10 символов.")  # noqa: RUF001
    await expect(page.locator("#reg-phone-error")).to_contain_text("в международном формате")
    await expect(page.get_by_text("must be")).to_have_count(0)


@pytest.mark.parametrize(
    ("email", "says"),
    [("a..b@example.org", "до @ не больше 64 латинских букв"), ("reader@localhost", "после @ имя сервера с точкой")],  # noqa: RUF001
)
async def test_an_email_that_is_no_plain_address_is_refused_in_russian(new_context, email: str, says: str) -> None:
    """The users service's "must be a plain address …" was shown in English under the field."""
    page = await (await new_context(locale="ru-RU")).new_page()
    await page.goto("/#/register")
    await page.locator("#reg-email").fill(email)
    await page.locator("#reg-password").fill("Correct-Horse-42")
    await page.locator("form button[type=submit]").click()

    await expect(page.locator("#reg-email-error")).to_contain_text(says)
    await expect(page.get_by_text("must be")).to_have_count(0)


async def test_a_fine_paid_with_a_bad_amount_says_what_is_wrong_in_russian(
    new_context, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Aleksandr Kuprin")
    fine = {"patron": patron["name"], "amount": "1.00", "kind": "FINE_KIND_DAMAGED_ITEM", "description": "Bent spine"}
    assert (await rest.post("/v1/fines", json=fine, headers=librarian.headers)).status_code == 200
    page = await (await new_context()).new_page()
    await sign_in(page, librarian.email, librarian.password, next_hash=f"/patrons/{patron['name'].split('/')[-1]}")
    await page.get_by_role("button", name="RU").click()
    row = page.get_by_role("row").filter(has_text="Bent spine")
    await expect(row.locator("input[inputmode=decimal]")).to_have_value("1,00")  # redrawn in Russian first
    await row.locator("input[inputmode=decimal]").fill("abc")
    await row.locator("button.button.small:not(.quiet)").click()

    # The example in the page's notation (finding A11).
    await expect(row.locator("span.error")).to_have_text("Укажите сумму, например 0,50.")


async def test_a_russian_page_takes_an_amount_with_a_decimal_comma(
    new_context, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    """The page writes money as 1,50 and refused 1,50 typed back ("some data is wrong")."""
    patron = await register(rest, unique_email(), "Ivan Shmelyov")
    fine = {"patron": patron["name"], "amount": "2.00", "kind": "FINE_KIND_DAMAGED_ITEM", "description": "Torn map"}
    made = await rest.post("/v1/fines", json=fine, headers=librarian.headers)
    assert made.status_code == 200, made.text
    page = await (await new_context()).new_page()
    await sign_in(page, librarian.email, librarian.password, next_hash=f"/patrons/{patron['name'].split('/')[-1]}")
    await page.get_by_role("button", name="RU").click()
    row = page.get_by_role("row").filter(has_text="Torn map")
    await expect(row.locator("input[inputmode=decimal]")).to_have_value("2,00")  # redrawn in Russian first
    await row.locator("input[inputmode=decimal]").fill("1,50")
    await row.locator("button.button.small:not(.quiet)").click()

    # The row starts from what is owed, written as the page writes it (W11: it was "0.50" on a Russian page).
    await expect(row.locator("input[inputmode=decimal]")).to_have_value("0,50")
    paid = (await rest.get(f"/v1/{made.json()['name']}", headers=librarian.headers)).json()
    assert paid["paid_amount"] == "1.50"


async def test_a_grouping_comma_on_an_english_page_is_refused_and_a_grouped_russian_amount_is_read(
    new_context, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    """A "1,500" typed on an English page was sent as 1.500 and recorded as 1.50 paid of a 1,500.00 fine."""
    patron = await register(rest, unique_email(), "Leonid Andreyev")
    fine = {"patron": patron["name"], "amount": "1500.00", "kind": "FINE_KIND_LOST_ITEM", "description": "Lost atlas"}
    made = await rest.post("/v1/fines", json=fine, headers=librarian.headers)
    assert made.status_code == 200, made.text
    page = await (await new_context(locale="en-US")).new_page()
    await sign_in(page, librarian.email, librarian.password, next_hash=f"/patrons/{patron['name'].split('/')[-1]}")
    await page.get_by_role("button", name="EN").click()
    row = page.get_by_role("row").filter(has_text="Lost atlas")
    await row.locator("input[inputmode=decimal]").fill("1,500")
    await row.locator("button.button.small:not(.quiet)").click()
    await expect(row.locator("span.error")).to_be_visible()
    fetched = (await rest.get(f"/v1/{made.json()['name']}", headers=librarian.headers)).json()
    assert fetched["paid_amount"] == "0.00"

    await page.get_by_role("button", name="RU").click()
    await expect(page.locator("html")).to_have_attribute("lang", "ru")  # typed from here on in Russian notation
    await expect(row.locator("input[inputmode=decimal]")).to_have_value("1,500")  # what was typed stays
    await row.locator("input[inputmode=decimal]").fill("1\u00a0000,50")  # as the page writes it, grouped
    await row.locator("button.button.small:not(.quiet)").click()
    await expect(row.locator("input[inputmode=decimal]")).to_have_value("499,50")
    fetched = (await rest.get(f"/v1/{made.json()['name']}", headers=librarian.headers)).json()
    assert fetched["paid_amount"] == "1000.50"


async def test_an_amount_typed_in_a_fines_row_stays_when_the_language_is_switched(
    new_context, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    """The switch redraws the rows: an amount typed was replaced by the one prefilled, in the new notation."""
    patron = await register(rest, unique_email(), "Nadezhda Lokhvitskaya")
    made = {}
    for description, amount in (("Water damage", "3.00"), ("Coffee stain", "2.00")):
        kind = "FINE_KIND_DAMAGED_ITEM"
        fine = {"patron": patron["name"], "amount": amount, "kind": kind, "description": description}
        response = await rest.post("/v1/fines", json=fine, headers=librarian.headers)
        assert response.status_code == 200, response.text
        made[description] = response.json()["name"]
    page = await (await new_context(locale="en-US")).new_page()
    await sign_in(page, librarian.email, librarian.password, next_hash=f"/fines?patron={patron['card_number']}")
    await page.get_by_role("button", name="EN").click()
    typed = page.get_by_role("row").filter(has_text="Water damage").locator("input[inputmode=decimal]")
    untouched = page.get_by_role("row").filter(has_text="Coffee stain").locator("input[inputmode=decimal]")
    await expect(typed).to_have_value("3.00")
    await typed.fill("1.25")

    await page.get_by_role("button", name="RU").click()
    await expect(untouched).to_have_value("2,00")  # redrawn in Russian, as the row says the amount
    await expect(typed).to_have_value("1.25")  # what the librarian typed stays
    await typed.press("Enter")
    await expect(typed).to_have_value("1,75")  # paid: the row starts again from what is owed
    paid = (await rest.get(f"/v1/{made['Water damage']}", headers=librarian.headers)).json()
    assert paid["paid_amount"] == "1.25"


async def test_a_proxy_error_page_is_not_shown_as_text(new_context) -> None:
    page = await (await new_context(locale="ru-RU")).new_page()
    html_page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    await page.route(
        "**/v1/books:search?*",
        lambda route: route.fulfill(status=502, body=html_page, content_type="text/html"),
    )
    await page.goto("/#/?q=tolstoy")

    await expect(page.get_by_role("alert")).to_have_text("Ошибка на сервере библиотеки. Попробуйте ещё раз.")


async def account_of(rest: httpx.AsyncClient, staff, email: str) -> dict:
    found = (await rest.get("/v1/users", params={"query": email}, headers=staff.headers)).json()
    (user,) = [user for user in found.get("users", []) if user["email"] == email]
    return user


async def test_registering_in_russian_gives_the_account_the_ui_language_and_the_browser_time_zone(
    new_context, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    email = unique_email()
    page = await (await new_context(locale="ru-RU", timezone_id="Europe/Moscow")).new_page()
    await page.goto("/#/register")
    await page.locator("#reg-email").fill(email)
    await page.locator("#reg-name").fill("Ivan Chitatel")
    await page.locator("#reg-password").fill("Correct-Horse-42")
    await page.locator("form button[type=submit]").click()
    await page.wait_for_function("() => location.hash.startsWith('#/account')")

    user = await account_of(rest, librarian, email)
    assert (user.get("locale"), user.get("time_zone")) == ("ru", "Europe/Moscow")


async def test_signing_in_fills_only_the_settings_the_account_lacks(
    new_context, rest: httpx.AsyncClient, librarian, unique_email
) -> None:
    patron = await register(rest, unique_email(), "Zinaida Gippius")
    headers = {"authorization": f"Bearer {patron['access_token']}"}
    chosen = await rest.patch(
        f"/v1/{patron['name']}", params={"update_mask": "locale"}, json={"locale": "ru"}, headers=headers
    )
    assert chosen.status_code == 200, chosen.text
    page = await (await new_context(timezone_id="America/New_York")).new_page()

    await sign_in(page, patron["email"], patron["password"])

    user = await account_of(rest, librarian, patron["email"])
    assert (user.get("locale"), user.get("time_zone")) == ("ru", "America/New_York"), "the reader's choice stays"
