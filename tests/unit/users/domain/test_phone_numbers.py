"""Phone numbers as people (and phones' autofill) write them are taken and stored in E.164 (finding P6: only a
bare "+79991234567" was accepted); a number that names no country, letters and control characters are refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.protobuf import field_mask_pb2

from athenaeum.users.v1 import users_pb2
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.identity import Role
from services.users.api import convert
from services.users.domain.accounts import Actor, User
from services.users.domain.profile import Profile
from services.users.domain.validation import phone_violation

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _registered(phone: str) -> User:
    return User.register(Profile(email="reader@example.org", phone=phone), password_hash="h", now=NOW)


def _refusal(phone: str) -> str:
    with pytest.raises(InvalidArgument) as refused:
        _registered(phone)
    (violation,) = refused.value.violations
    assert violation.field == "user.phone"
    return violation.description


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+7 (999) 123-45-67", "+79991234567"),
        ("+7 999 123-45-67", "+79991234567"),
        ("+1-555-000-2222", "+15550002222"),
        ("+44 20 7946.0958", "+442079460958"),
        ("  +7\u00a0999\u00a0123\u201145\u201167 ", "+79991234567"),  # no-break spaces and hyphens (autofill)
        ("+79991234567", "+79991234567"),
    ],
)
def test_a_number_written_with_spaces_brackets_dashes_or_dots_is_stored_in_e164(typed: str, stored: str) -> None:
    assert _registered(typed).profile.phone == stored


def test_no_number_stays_no_number() -> None:
    assert _registered("").profile.phone == ""
    assert _registered("   ").profile.phone == ""


@pytest.mark.parametrize("typed", ["8 999 123-45-67", "89991234567", "79991234567", "0044 20 7946 0958"])
def test_a_number_without_plus_and_country_code_is_refused_naming_the_form_expected(typed: str) -> None:
    """A national prefix (8 in Russia, 0 in most of Europe) does not say which country: the reader is told to
    write "+" and the country code, with an example."""
    description = _refusal(typed)
    assert description.startswith("must start with + and the country code") and "+7 999 123-45-67" in description


@pytest.mark.parametrize(
    "typed",
    [
        "+7 999 CALL-NOW",
        "+7 999 123 45 67 ext 2",
        "+7\n9991234567",
        "+79991234567\n",
        "+7\x009991234567",
        "+7 999/123/45/67",
        "+7٩٩٩١٢٣٤٥٦٧",  # noqa: RUF001 — Arabic-Indic digits: \d matched them
        "+0 999 123 45 67",
        "+7 12",
        "+7 999 123 45 67 89 01 23",
        "+",
        "()",
    ],
)
def test_letters_control_characters_other_symbols_and_wrong_lengths_are_still_refused(typed: str) -> None:
    assert _refusal(typed).startswith("must be in E.164 form")


def test_the_check_names_the_field_it_is_given() -> None:
    violation = phone_violation("8 999", field="phone")
    assert violation is not None and violation.field == "phone"


def test_a_reader_updating_their_phone_over_the_api_gets_it_stored_in_e164() -> None:
    """UpdateUser as an API client sends it (not only the web client): the same rule at the domain."""
    user = _registered("")
    request = users_pb2.UpdateUserRequest(
        user=users_pb2.User(name=user.name, phone="+7 (999) 123-45-67"),
        update_mask=field_mask_pb2.FieldMask(paths=["phone"]),
    )
    mask = convert.update_mask_of(request)
    user.update(
        convert.profile_from_proto(request.user, masked=mask), mask, actor=Actor(user.name, Role.READER), now=NOW
    )
    assert user.profile.phone == "+79991234567"


def test_the_same_number_written_another_way_is_no_change_of_phone() -> None:
    """The notifications service tells the reader when the phone changes: the same number respelled is not one."""
    user = _registered("+79991234567")
    user.update(
        Profile(email="", phone="+7 999 123-45-67"), frozenset({"phone"}), actor=Actor(user.name, Role.READER), now=NOW
    )
    assert user.profile.phone == "+79991234567"
