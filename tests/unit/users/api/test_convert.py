"""Proto -> domain for account changes: an enum is taken as sent, or refused by name, never guessed."""

from __future__ import annotations

import pytest
from google.protobuf import field_mask_pb2

from athenaeum.users.v1 import users_pb2
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.identity import Role
from services.users.api import convert
from services.users.domain.profile import Profile, UserStatus

NAME = "users/00000000-0000-0000-0000-00000000000c"


def _changes(user: users_pb2.User, *paths: str) -> Profile:
    request = users_pb2.UpdateUserRequest(user=user, update_mask=field_mask_pb2.FieldMask(paths=list(paths)))
    return convert.profile_from_proto(request.user, masked=convert.update_mask_of(request))


@pytest.mark.parametrize(
    ("paths", "field"),
    [(["status"], "user.status"), (["status", "status_reason"], "user.status"), (["role"], "user.role")],
)
def test_an_unspecified_enum_named_in_the_mask_is_refused_by_name(paths: list[str], field: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        _changes(users_pb2.User(name=NAME), *paths)  # a blocked patron would have become ACTIVE, an admin a READER
    assert [violation.field for violation in error.value.violations] == [field]


def test_both_unspecified_enums_are_named_at_once() -> None:
    with pytest.raises(InvalidArgument) as error:
        _changes(users_pb2.User(name=NAME), "role", "status")
    assert [violation.field for violation in error.value.violations] == ["user.role", "user.status"]


def test_an_enum_the_api_does_not_define_is_refused_in_an_update_and_in_a_new_account() -> None:
    with pytest.raises(InvalidArgument) as update:
        _changes(users_pb2.User(name=NAME, status=42), "status")
    with pytest.raises(InvalidArgument) as create:
        convert.profile_from_proto(users_pb2.User(email="enum2@example.org", role=99, status=77))
    assert [violation.field for violation in update.value.violations] == ["user.status"]
    assert [violation.field for violation in create.value.violations] == ["user.role", "user.status"]


def test_unspecified_enums_outside_the_mask_take_a_new_readers_defaults() -> None:
    created = convert.profile_from_proto(users_pb2.User(email="new@example.org"))
    renamed = _changes(users_pb2.User(name=NAME, display_name="Ada"), "display_name")
    assert (created.role, created.status) == (renamed.role, renamed.status) == (Role.READER, UserStatus.ACTIVE)


def test_a_named_enum_with_a_value_is_taken_as_sent() -> None:
    blocked = _changes(users_pb2.User(name=NAME, status=users_pb2.USER_STATUS_BLOCKED), "status")
    without_a_mask = _changes(users_pb2.User(name=NAME, role=users_pb2.USER_ROLE_LIBRARIAN))
    assert blocked.status == UserStatus.BLOCKED and without_a_mask.role == Role.LIBRARIAN
