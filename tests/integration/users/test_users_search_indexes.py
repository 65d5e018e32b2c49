"""Staff's patron search on 20,000 accounts in real Postgres (findings-scale F4): a scanned card number or an
email is looked up by its unique index, other text by the trigram indexes of migration 0010 — never a scan of
every account — and the substring search answers as it did (same accounts, newest first, same totals)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from services.users.app import accounts
from services.users.app.ports import UserFilter
from services.users.domain.patron_search import name_matches

pytestmark = pytest.mark.integration

ACCOUNTS = 20_000
BULK = (
    "INSERT INTO users (id, email, display_name, phone, card_number, patron_category, role, status,"
    " email_opt_in, sms_opt_in, created_at, updated_at, version)"
    " SELECT gen_random_uuid(), 'bulk' || n || '@example.org', 'Reader ' || n || CASE WHEN n % 100 = 0"
    " THEN ' Petrov' ELSE '' END, '+7900' || lpad(n::text, 7, '0'), '29' || lpad(n::text, 12, '0'), 'ADULT',"
    " 'reader', 'active', true, false, now() - n * interval '1 second', now(), 1"
    f" FROM generate_series(1, {ACCOUNTS}) AS n"
)


@pytest.fixture(scope="module")
async def crowded(users_db) -> Any:
    async with users_db.engine.begin() as connection:
        await connection.execute(sa.text(BULK))
        await connection.execute(sa.text("ANALYZE users"))
    return users_db


@contextmanager
def _statements(db) -> Iterator[list[tuple[str, Any]]]:
    """The statements (with their parameters) run on the database while in the block."""
    seen: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if "FROM users" in statement:
            seen.append((statement, parameters))

    sa.event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def _search(db, text: str) -> tuple[list[str], int, list[str]]:
    """The emails of the first page of `text`'s matches, their number, and the plans of its statements."""
    with _statements(db) as seen:
        page = await accounts.list_users(
            accounts.ListUsers(UserFilter(text=text), page_size=100), uow=db.uow(), clock=db.clock
        )
    plans = []
    async with db.engine.connect() as connection:
        for statement, parameters in seen:
            explained = await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            plans.append("\n".join(row[0] for row in explained))
    return [u.profile.email for u in page.items], page.total_size, plans


async def test_a_scanned_card_number_and_an_email_are_looked_up_by_their_unique_indexes(crowded) -> None:
    emails, total, plans = await _search(crowded, "29000000012345")
    assert (emails, total) == (["bulk12345@example.org"], 1)
    emails, total, plans_by_email = await _search(crowded, "Bulk777@Example.org")
    assert (emails, total) == (["bulk777@example.org"], 1)
    for plan in plans + plans_by_email:
        assert "users_card_number_key" in plan and "users_email_key" in plan, plan
        assert "Seq Scan" not in plan, plan


async def test_other_text_is_matched_through_the_trigram_indexes(crowded) -> None:
    for text in ("12345", "petrov reader 1990"):
        *_, plans = await _search(crowded, text)
        for plan in plans[1:]:  # after the exact look-up that found nothing
            assert "Seq Scan" not in plan, plan
            assert "users_display_name_trgm" in plan, plan
        assert all(f"users_{c}_trgm" in plans[-1] for c in ("email", "phone", "card_number")), plans[-1]


async def _expected(db, text: str) -> tuple[list[str], int]:
    """What the substring search answered before the indexes: every account holding `text`, newest first."""
    async with db.engine.connect() as connection:
        rows = (await connection.execute(sa.text("SELECT * FROM users ORDER BY created_at DESC, id DESC"))).all()
    found = [
        r.email
        for r in rows
        if any(text.lower() in v.lower() for v in (r.email, r.phone, r.card_number))
        or name_matches(text, r.display_name)
    ]
    return found[:100], len(found)


@pytest.mark.parametrize("text", ["12345", "petrov", "READER 19", "+7900001", "ulk99", "%", "1_", "ov reader"])
async def test_the_substring_search_answers_as_before(crowded, text: str) -> None:
    emails, total, _ = await _search(crowded, text)
    assert (emails, total) == await _expected(crowded, text)
