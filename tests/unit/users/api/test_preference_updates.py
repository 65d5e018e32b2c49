"""UpdateUser and the notification preferences: a change to one part leaves the others as they were."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.protobuf import field_mask_pb2

from athenaeum.users.v1 import users_pb2
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.identity import Role
from services.users.api import convert
from services.users.domain.accounts import Actor, User
from services.users.domain.profile import KindChoice, Profile

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
SET_UP = Profile(
    email="reader@example.org",
    email_opt_in=False,
    sms_opt_in=True,
    phone="+79991234567",
    kind_choices=(KindChoice("due_soon", True, True), KindChoice("hold_ready", True, False)),
)


def _patched(prefs: users_pb2.NotificationPreferences, *paths: str) -> Profile:
    """The reader's profile after a PATCH of their own account with `prefs` (and `paths` as update_mask)."""
    user = User.register(SET_UP, password_hash="h", now=NOW)
    request = users_pb2.UpdateUserRequest(
        user=users_pb2.User(name=user.name, notification_preferences=prefs),
        update_mask=field_mask_pb2.FieldMask(paths=list(paths)),
    )
    mask = convert.update_mask_of(request)
    changes = convert.profile_from_proto(request.user, masked=mask)
    user.update(changes, mask, actor=Actor(user.name, Role.READER), now=NOW)
    return user.profile


def test_switching_email_on_without_a_mask_keeps_sms_and_every_kind() -> None:
    profile = _patched(users_pb2.NotificationPreferences(email_opt_in=True))
    assert (profile.email_opt_in, profile.sms_opt_in) == (True, True)
    assert profile.kind_choices == SET_UP.kind_choices


def test_one_kind_sent_without_a_mask_changes_that_kind_only() -> None:
    prefs = users_pb2.NotificationPreferences(kinds={"hold_ready": users_pb2.ChannelChoice(email=False, sms=True)})
    profile = _patched(prefs)
    assert profile.kind_choices == (KindChoice("due_soon", True, True), KindChoice("hold_ready", False, True))
    assert (profile.email_opt_in, profile.sms_opt_in) == (False, True)


def test_a_mask_naming_one_part_switches_it_off_and_leaves_the_rest() -> None:
    profile = _patched(users_pb2.NotificationPreferences(), "notification_preferences.sms_opt_in")
    assert (profile.email_opt_in, profile.sms_opt_in) == (False, False)  # false can be sent with a mask
    assert profile.kind_choices == SET_UP.kind_choices


def test_a_mask_naming_one_kind_absent_from_the_request_removes_that_choice() -> None:
    profile = _patched(users_pb2.NotificationPreferences(), "notification_preferences.kinds.due_soon")
    assert profile.kind_choices == (KindChoice("hold_ready", True, False),)
    assert profile.sms_opt_in


def test_a_mask_naming_the_preferences_whole_replaces_them() -> None:
    profile = _patched(users_pb2.NotificationPreferences(email_opt_in=True), "notification_preferences")
    assert (profile.email_opt_in, profile.sms_opt_in, profile.kind_choices) == (True, False, ())


@pytest.mark.parametrize("paths", [(), ("notification_preferences.kinds.spam",)])
def test_an_unknown_kind_is_refused_by_the_field_that_holds_kinds(paths: tuple[str, ...]) -> None:
    prefs = users_pb2.NotificationPreferences(kinds={"spam": users_pb2.ChannelChoice(email=True)})
    with pytest.raises(InvalidArgument) as error:
        _patched(prefs, *paths)
    assert [v.field for v in error.value.violations] == ["user.notification_preferences.kinds"]
