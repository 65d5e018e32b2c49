# ruff: noqa: RUF002 (Cyrillic on purpose: the names searched)
"""Staff find a patron as Russian names are typed at the desk: "е" for "ё", surname first, any case."""

from __future__ import annotations

import uuid

import pytest

from services.users.app import accounts, signing_in
from services.users.app.ports import UserFilter
from services.users.domain.profile import Profile

pytestmark = pytest.mark.integration


async def _found(db, text: str, marker: str) -> set[str]:
    """The display names of this test's accounts (those with `marker` in their email) that `text` finds."""
    page = await accounts.list_users(
        accounts.ListUsers(UserFilter(text=text), page_size=100), uow=db.uow(), clock=db.clock
    )
    return {u.profile.display_name for u in page.items if marker in u.profile.email}


async def test_a_name_is_found_by_its_words_in_any_order_with_e_for_yo(users_db) -> None:
    marker = uuid.uuid4().hex[:8]
    for n, name in enumerate(("Пётр Сидоров", "Иван Петров", "Fyodor Dostoevsky")):
        profile = Profile(email=f"{marker}-{n}@example.org", display_name=name)
        await signing_in.register(signing_in.Register(profile, "Correct-Horse-42"), uow=users_db.uow(), **users_db.auth)
    assert await _found(users_db, "петр", marker) == {"Пётр Сидоров", "Иван Петров"}
    assert await _found(users_db, "Петр Сидоров", marker) == {"Пётр Сидоров"}
    assert await _found(users_db, "сидоров  ПЁТР", marker) == {"Пётр Сидоров"}  # surname first, as on the card
    assert await _found(users_db, "Сидоров Иван", marker) == set()  # every word must be in the one name
    assert await _found(users_db, "dostoevsky fyo", marker) == {"Fyodor Dostoevsky"}
    assert await _found(users_db, f"{marker}-1@", marker) == {"Иван Петров"}  # the email, whole, as before
    assert await _found(users_db, "100%_", marker) == set()  # LIKE's wildcards are only characters
