"""An update's previous values as text, by update_mask path; personal data left out."""

from __future__ import annotations

from athenaeum.users.v1 import users_pb2
from services.support.runtime.previous_values import previous_values


def test_values_are_rendered_as_the_trail_renders_them_and_redacted_fields_are_left_out() -> None:
    user = users_pb2.User(
        email="r@example.org",
        display_name="Reader",
        role=users_pb2.USER_ROLE_READER,
        home_branch="MAIN",
        notification_preferences=users_pb2.NotificationPreferences(email_opt_in=False),
    )
    found = previous_values(
        user,
        ["role", "home_branch", "email", "display_name", "phone", "notification_preferences.email_opt_in", "nope"],
    )
    assert found == {
        "role": "USER_ROLE_READER",
        "home_branch": "MAIN",
        "notification_preferences.email_opt_in": "false",
    }
