"""Account rules: normalized emails, password policy, card numbers, who may write which field, eligibility."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.support.runtime.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from services.support.runtime.identity import Role
from services.users.domain.accounts import (
    SETTLED,
    Actor,
    Standing,
    User,
    UserRegistered,
    UserStatusChanged,
    UserUpdated,
)
from services.users.domain.profile import Profile, UserStatus
from services.users.domain.validation import new_card_number, normalize_email, password_violation

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ADMIN = Actor("users/00000000-0000-0000-0000-00000000000a", Role.ADMIN)
LIBRARIAN = Actor("users/00000000-0000-0000-0000-00000000000b", Role.LIBRARIAN)


def _reader(**profile: object) -> User:
    return User.register(Profile(email="Reader@Example.ORG", **profile), password_hash="h", now=NOW)  # type: ignore[arg-type]


def _as_self(user: User) -> Actor:
    return Actor(user.name, user.profile.role)


def _violated_fields(error: pytest.ExceptionInfo[InvalidArgument]) -> list[str]:
    return [violation.field for violation in error.value.violations]


def test_emails_are_trimmed_and_lower_cased() -> None:
    assert normalize_email("  Ada.Lovelace@Example.ORG ") == "ada.lovelace@example.org"


@pytest.mark.parametrize("raw", ["", "no-at-sign", "two@@example.org", "user@", "@example.org", "a b@example.org"])
def test_malformed_emails_are_refused(raw: str) -> None:
    with pytest.raises(InvalidArgument):
        normalize_email(raw)


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        ("mallory:bob@example.org", "before the @"),  # a mailer sends this to bob@example.org
        ("x<postmaster>@example.org", "before the @"),  # ... and this to the relay's own postmaster
        ("a,b@example.org", "before the @"),  # ... and this to "a" and "b@example.org"
        ('"c<a>rol"@example.org', "before the @"),
        ("a;b@example.org", "before the @"),
        ("a(comment)b@example.org", "before the @"),
        ("ca..rol@example.org", "before the @"),
        (".carol@example.org", "before the @"),
        ("carol.@example.org", "before the @"),
        ("x" * 65 + "@example.org", "before the @"),
        ("carol@example.-org", "after the @"),
        ("carol@-example.org", "after the @"),
        ("carol@example-.org", "after the @"),
        ("carol@[127.0.0.1]", "after the @"),
        ("carol@localhost", "after the @"),
    ],
)
def test_addresses_a_mailer_would_read_another_recipient_from_are_refused_by_name(raw: str, where: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        normalize_email(raw)
    (violation,) = error.value.violations
    assert violation.field == "email" and where in violation.description


@pytest.mark.parametrize("raw", ["o'brien+loans@mail.example.co.uk", "a!#$%&'*+-/=?^_`{|}~z@x-1.example", "a@b.io"])
def test_plain_addresses_with_any_atext_character_are_accepted(raw: str) -> None:
    assert normalize_email(raw) == raw


@pytest.mark.parametrize("password", ["short", "password123", "aaaaaaaaaaaa", "reader@example.org", "x" * 300])
def test_weak_passwords_are_refused(password: str) -> None:
    assert password_violation(password, "reader@example.org") is not None


def test_a_long_varied_password_is_accepted() -> None:
    assert password_violation("Correct-Horse-42", "reader@example.org") is None


def test_card_numbers_carry_a_valid_luhn_check_digit() -> None:
    for _ in range(50):
        digits = [int(c) for c in new_card_number()]
        checksum = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(reversed(digits)))
        assert len(digits) == 14 and checksum % 10 == 0


def test_registration_normalizes_and_announces_the_account() -> None:
    user = _reader(display_name="  Ada ")
    assert user.profile.email == "reader@example.org"
    assert user.profile.display_name == "Ada"
    assert user.profile.role == Role.READER and user.profile.status == UserStatus.ACTIVE
    assert [type(e) for e in user.events] == [UserRegistered]


def test_registration_names_every_bad_field() -> None:
    with pytest.raises(InvalidArgument) as error:
        User.register(Profile(email="nope", phone="8-800", patron_category="adult"), password_hash="", now=NOW)
    assert _violated_fields(error) == ["user.email", "user.phone", "user.patron_category"]


def test_a_librarian_cannot_create_staff_but_an_admin_can() -> None:
    staff = Profile(email="new.staff@example.org", role=Role.LIBRARIAN)
    with pytest.raises(PermissionDenied):
        User.register(staff, password_hash="", now=NOW, created_by=LIBRARIAN)
    assert User.register(staff, password_hash="", now=NOW, created_by=ADMIN).profile.role == Role.LIBRARIAN


def test_a_reader_changes_their_own_contact_details() -> None:
    user = _reader()
    user.update(Profile(email="", phone="+79991234567"), frozenset({"phone"}), actor=_as_self(user), now=NOW)
    assert user.profile.phone == "+79991234567" and user.version == 2
    assert isinstance(user.events[-1], UserUpdated)


@pytest.mark.parametrize("field", ["role", "status", "patron_category", "expire_time"])
def test_a_reader_cannot_change_their_own_standing(field: str) -> None:
    user = _reader()
    changes = Profile(email="", role=Role.ADMIN, status=UserStatus.ACTIVE, patron_category="STAFF")
    with pytest.raises(PermissionDenied):
        user.update(changes, frozenset({field}), actor=_as_self(user), now=NOW)
    assert user.profile.role == Role.READER and user.version == 1


def test_a_reader_cannot_change_someone_else() -> None:
    user, other = _reader(), _reader()
    with pytest.raises(PermissionDenied):
        user.update(Profile(email="", display_name="x"), frozenset({"display_name"}), actor=_as_self(other), now=NOW)


def test_only_an_admin_changes_roles() -> None:
    user = _reader()
    promote = Profile(email="", role=Role.LIBRARIAN)
    with pytest.raises(PermissionDenied):
        user.update(promote, frozenset({"role"}), actor=LIBRARIAN, now=NOW)
    user.update(promote, frozenset({"role"}), actor=ADMIN, now=NOW)
    assert user.profile.role == Role.LIBRARIAN


def test_blocking_records_the_status_change() -> None:
    user = _reader()
    blocked = Profile(email="", status=UserStatus.BLOCKED, status_reason="lost card")
    user.update(blocked, frozenset({"status", "status_reason"}), actor=LIBRARIAN, now=NOW)
    change = user.events[-1]
    assert isinstance(change, UserStatusChanged) and change.status == UserStatus.BLOCKED
    assert user.eligibility(NOW).reasons == ("blocked: lost card",)
    user.ensure_may_sign_in(NOW)  # to read why, and what is out and owed
    assert user.restricted(NOW)


def test_unblocking_clears_the_block_s_reason_and_does_not_state_it_as_the_unblock_s() -> None:
    """The audit said the account was re-activated "because: lost card", and the reader's page still showed it."""
    user = _reader()
    blocked = Profile(email="", status=UserStatus.BLOCKED, status_reason="lost card")
    user.update(blocked, frozenset({"status", "status_reason"}), actor=LIBRARIAN, now=NOW)
    user.update(Profile(email="", status=UserStatus.ACTIVE), frozenset({"status"}), actor=LIBRARIAN, now=NOW)
    change = user.events[-1]
    assert isinstance(change, UserStatusChanged) and (change.previous_status, change.reason) == (
        UserStatus.BLOCKED,
        "",
    )
    assert user.profile.status_reason == ""
    user.update(blocked, frozenset({"status", "status_reason"}), actor=LIBRARIAN, now=NOW)
    unblocked = Profile(email="", status=UserStatus.ACTIVE, status_reason="card found")
    user.update(unblocked, frozenset({"status", "status_reason"}), actor=LIBRARIAN, now=NOW)
    change = user.events[-1]
    assert isinstance(change, UserStatusChanged) and change.reason == "card found"  # a reason given with it
    assert user.profile.status_reason == ""  # the field says why the account *is* blocked
    user.update(blocked, frozenset({"status", "status_reason"}), actor=LIBRARIAN, now=NOW)
    user.deactivate(actor=LIBRARIAN, now=NOW, standing=SETTLED)
    assert user.profile.status_reason == ""


def test_only_a_closed_account_is_refused_at_sign_in() -> None:
    user = _reader()
    user.deactivate(actor=LIBRARIAN, now=NOW, standing=SETTLED)
    with pytest.raises(PermissionDenied) as refused:
        user.ensure_may_sign_in(NOW)
    assert refused.value.reason == "ACCOUNT_DEACTIVATED"


def test_a_closed_account_with_books_out_stays_open() -> None:
    user = _reader()
    with pytest.raises(FailedPrecondition) as refused:
        user.deactivate(actor=LIBRARIAN, now=NOW, standing=Standing(loans_out=1, fines_outstanding=0, amount_owed="0"))
    assert refused.value.reason == "ACCOUNT_HAS_LOANS" and user.profile.status == UserStatus.ACTIVE
    assert [type(e) for e in user.events] == [UserRegistered]


def test_unknown_and_output_only_mask_fields_are_invalid() -> None:
    user = _reader()
    for mask in ({"password_hash"}, {"card_number"}):
        with pytest.raises(InvalidArgument):
            user.update(Profile(email=""), frozenset(mask), actor=ADMIN, now=NOW)


def test_membership_expiry_makes_the_patron_ineligible() -> None:
    user = _reader(expire_at=NOW + timedelta(days=1))
    assert user.eligibility(NOW).eligible
    later = NOW + timedelta(days=2)
    assert user.effective_status(later) == UserStatus.EXPIRED
    assert user.eligibility(later).reasons == ("membership expired",)


def test_deactivation_keeps_the_record_and_is_idempotent() -> None:
    user = _reader()
    user.deactivate(actor=LIBRARIAN, now=NOW, standing=SETTLED)
    user.deactivate(actor=LIBRARIAN, now=NOW, standing=SETTLED)
    assert user.profile.status == UserStatus.DEACTIVATED
    assert [type(e) for e in user.events] == [UserRegistered, UserUpdated, UserStatusChanged]
    updated = user.events[1]
    assert isinstance(updated, UserUpdated) and updated.update_mask == ("status",)
    assert updated.user.version == 2  # the account's version travels with it: projections keep the newest
