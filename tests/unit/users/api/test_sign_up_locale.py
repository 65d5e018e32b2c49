"""Sign-up's language: any spelling of a supported language tag is taken as that language; others are refused."""

from __future__ import annotations

import pytest

from athenaeum.users.v1 import users_pb2
from services.users.api import convert


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("RU", "ru"), ("ru-Cyrl-RU", "ru"), ("ru-RU", "ru"), ("en_US", "en"), ("EN-gb", "en"), ("ru", "ru"), ("", "")],
)
def test_a_language_tag_in_any_case_or_with_a_region_is_kept_as_its_supported_language(sent: str, kept: str) -> None:
    """BCP 47 tags are case-insensitive: "RU" and the browser's full "ru-Cyrl-RU" were refused as not tags."""
    profile = convert.registration_profile(users_pb2.RegisterRequest(email="olga@example.org", locale=sent))
    assert profile.locale == kept
    assert profile.violations(prefix="") == []


@pytest.mark.parametrize("sent", ["xx", "de", "x", "ru--", "ru RU", "../ru"])
def test_a_language_no_notice_is_written_in_is_refused_naming_the_field(sent: str) -> None:
    """The tag "xx" was stored as given: the reader's notices then came in the library's default without a word."""
    profile = convert.registration_profile(users_pb2.RegisterRequest(email="olga@example.org", locale=sent))
    violations = profile.violations(prefix="")
    assert [violation.field for violation in violations] == ["locale"]
    assert '"en" or "ru"' in violations[0].description


def test_an_update_s_language_is_reduced_the_same_way() -> None:
    user = users_pb2.User(email="olga@example.org", locale="Ru-ru")
    assert convert.profile_from_proto(user).locale == "ru"
