"""Who asks: readers act for themselves, staff and the system for anyone; lists are scoped to a patron."""

from __future__ import annotations

import pytest

from services.loans.domain.actors import SYSTEM, Actor, patron_scope
from services.support.runtime.errors import InvalidArgument, PermissionDenied
from services.support.runtime.identity import Role

READER = Actor(user="users/p", role=Role.READER)
LIBRARIAN = Actor(user="users/staff", role=Role.LIBRARIAN)
ADMIN = Actor(user="users/admin", role=Role.ADMIN)


def test_readers_act_only_for_themselves() -> None:
    reader = READER
    reader.ensure_may_act_for("users/p", "renew the loans")
    with pytest.raises(PermissionDenied):
        reader.ensure_may_act_for("users/q", "renew the loans")
    Actor(user="users/staff", role=Role.LIBRARIAN).ensure_may_act_for("users/q", "renew the loans")
    SYSTEM.ensure_may_act_for("users/q", "renew the loans")  # a peer or the scheduler acts for anyone
    assert SYSTEM.is_staff and not reader.is_staff


def test_only_staff_take_desk_actions_and_only_admins_or_the_system_edit_rules() -> None:
    with pytest.raises(PermissionDenied) as desk:
        READER.ensure_staff("issue loans")
    assert desk.value.reason == "STAFF_ONLY"
    LIBRARIAN.ensure_staff("issue loans")
    with pytest.raises(PermissionDenied) as rules:
        LIBRARIAN.ensure_admin()
    assert rules.value.reason == "ADMIN_ONLY"
    ADMIN.ensure_admin()
    SYSTEM.ensure_admin()


def test_a_list_is_scoped_to_the_caller_or_to_a_patron_staff_name() -> None:
    assert patron_scope("users/me", READER, "loans") == "users/p"
    assert patron_scope("users/q", LIBRARIAN, "loans") == "users/q"
    assert patron_scope("", LIBRARIAN, "loans") == ""
    with pytest.raises(PermissionDenied):
        patron_scope("", READER, "loans")
    with pytest.raises(PermissionDenied):
        patron_scope("users/q", READER, "loans")
    with pytest.raises(InvalidArgument) as bad:
        patron_scope("books/b", LIBRARIAN, "loans")
    assert bad.value.violations[0].field == "parent"
