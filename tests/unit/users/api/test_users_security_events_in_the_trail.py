"""The users service's events as the audit trail reads them: who acted, against which account, what changed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.events.api.audit import audit_of
from services.support.runtime.events import DomainEvent
from services.support.runtime.identity import ANONYMOUS, Role
from services.support.runtime.messaging import ACTOR_HEADER, EVENT_TYPE_HEADER
from services.users.api.events import encode
from services.users.domain.accounts import Actor, User, UserUpdated
from services.users.domain.password_resets import PasswordResetRequested
from services.users.domain.profile import Profile
from services.users.domain.throttling import UserLoginFailed

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def in_the_trail(event: DomainEvent):
    message = encode(event)
    headers = {EVENT_TYPE_HEADER: message.event_type, ACTOR_HEADER: ANONYMOUS}  # a call from outside, no one signed in
    return audit_of(message.subject, message.payload, headers, now=NOW)


@pytest.mark.parametrize(
    "event",
    [
        UserLoginFailed(
            occurred_at=NOW,
            email="r1@example.org",
            reason="wrong_password",
            name="users/r1",
            client_address="198.51.100.23",
        ),
        PasswordResetRequested(
            occurred_at=NOW, name="users/r1", token="secret-token", expires_at=NOW, client_address="198.51.100.23"
        ),
    ],
    ids=["failed sign-in", "reset request"],
)
def test_a_stranger_s_attempt_on_an_account_is_not_recorded_as_the_account_holder_s(event: DomainEvent) -> None:
    """ListEvents actor=users/r1 showed a stranger's guesses and reset requests as the reader's own actions."""
    record = in_the_trail(event)
    assert (record.actor, record.subject) == ("anonymous", "users/r1")
    assert record.attributes["client_address"] == "198.51.100.23"
    assert "secret-token" not in repr(record.attributes) and "r1@example.org" not in repr(record.attributes)


def test_a_refused_sign_in_says_so_and_how_many_were_refused_before_a_counted_one() -> None:
    refused = in_the_trail(
        UserLoginFailed(occurred_at=NOW, email="r1@example.org", reason="rate_limited", name="users/r1")
    )
    assert refused.attributes["reason"] == "rate_limited" and refused.actor == "anonymous"
    counted = in_the_trail(
        UserLoginFailed(
            occurred_at=NOW, email="r1@example.org", reason="wrong_password", name="users/r1", refused_attempts=11
        )
    )
    assert counted.attributes["refused_attempts"] == "11"


def test_a_signed_in_user_s_reset_request_is_theirs() -> None:
    event = PasswordResetRequested(
        occurred_at=NOW, name="users/r1", token="t", expires_at=NOW, requested_by="users/lib"
    )
    assert in_the_trail(event).actor == "users/lib"


def test_a_role_change_says_what_the_role_was_and_leaves_personal_data_out() -> None:
    """A promotion from READER and a demotion from ADMIN read the same in the trail."""
    user = User.register(Profile(email="r3@example.org", display_name="Reader Three"), password_hash="h", now=NOW)
    admin = Actor("users/admin", Role.ADMIN)
    changes = Profile(email="new@example.org", display_name="Someone Else", role=Role.LIBRARIAN)
    user.update(changes, frozenset({"role", "email", "display_name"}), actor=admin, now=NOW)
    record = in_the_trail(next(e for e in user.events if isinstance(e, UserUpdated)))
    assert record.attributes["previous_values.role"] == "USER_ROLE_READER"
    assert record.attributes["user.role"] == "USER_ROLE_LIBRARIAN" and record.actor == "users/admin"
    assert "r3@example.org" not in repr(record.attributes) and "Reader Three" not in repr(record.attributes)
