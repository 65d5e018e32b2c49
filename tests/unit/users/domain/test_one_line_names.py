"""A display name is one line: a line break, a tab or another control character in it is refused where it is
given (it printed the greeting of every letter as several lines, "Dear Bob / Bcc: victim@…"); a name stored
before the rule stays until it is edited."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from services.support.runtime.errors import InvalidArgument
from services.support.runtime.identity import Role
from services.users.domain.accounts import Actor, User
from services.users.domain.profile import Profile

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _reader(name: str = "Bob") -> User:
    return User.register(Profile(email="bob@example.org", display_name=name), password_hash="h", now=NOW)


@pytest.mark.parametrize("name", ["Bob\r\nBcc: victim@evil.org", "Bob\nSmith", "Bob\tSmith", "Bob\x07", "Bob\u2028X"])
def test_a_display_name_with_a_line_break_or_control_character_is_refused_at_registration(name: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        _reader(name)
    assert [v.field for v in error.value.violations] == ["user.display_name"]
    assert "one line" in error.value.violations[0].description


def test_a_display_name_with_a_line_break_is_refused_in_an_update() -> None:
    bob = _reader()
    with pytest.raises(InvalidArgument) as error:
        bob.update(Profile(email="", display_name="Bob\nX-Injected: yes"), frozenset({"display_name"}),
                   actor=Actor(bob.name, Role.READER), now=NOW)  # fmt: skip
    assert [v.field for v in error.value.violations] == ["user.display_name"]
    assert bob.profile.display_name == "Bob"


def test_an_account_stored_with_a_break_in_its_name_may_still_change_other_fields() -> None:
    bob = _reader()
    bob.profile = replace(bob.profile, display_name="Bob\r\nSmith")  # stored before the rule
    bob.update(
        Profile(email="", phone="+15550001111"), frozenset({"phone"}), actor=Actor(bob.name, Role.READER), now=NOW
    )
    assert bob.profile.phone == "+15550001111"


def test_a_name_with_spaces_and_right_to_left_marks_is_one_line() -> None:
    assert _reader("  Анна  Каренина \u200f ").profile.display_name == "Анна  Каренина \u200f"
