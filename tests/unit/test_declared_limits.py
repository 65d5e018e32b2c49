"""The API reference shows each field's declared limit (`maxLength`, `maxItems`); where a service enforces a
tighter one, the proto declares that one, so a client validating against the reference is refused for
nothing it could not know (events and notifications advertised the 10,000-character fallback)."""

from __future__ import annotations

import pytest
from google.protobuf.descriptor import Descriptor

from athenaeum.api.v1 import limits_pb2
from athenaeum.catalog.v1 import catalog_pb2
from athenaeum.events.v1 import events_pb2
from athenaeum.loans.v1 import loans_pb2
from athenaeum.loans.v1 import resources_pb2 as loans_resources_pb2
from athenaeum.notifications.v1 import notifications_pb2
from athenaeum.users.v1 import users_pb2
from services.catalog.domain import item_types
from services.events.domain import rules
from services.loans.domain import codes as loans_codes
from services.notifications.app import sending
from services.support.runtime.boundary import check_request
from services.support.runtime.errors import InvalidArgument
from services.users.domain import validation as users_validation
from services.users.domain.validation import MAX_PASSWORD_LENGTH


def _declared(message: Descriptor, name: str) -> tuple[int, int]:
    limits = message.fields_by_name[name].GetOptions().Extensions[limits_pb2.limits]
    return limits.max_length, limits.max_items


def test_an_event_declares_what_the_log_takes() -> None:
    event = events_pb2.Event.DESCRIPTOR
    assert _declared(event, "type")[0] == rules.MAX_TYPE_LENGTH
    assert _declared(event, "attributes") == (rules.MAX_VALUE_LENGTH, rules.MAX_ATTRIBUTES)
    assert _declared(event, "trace_id")[0] == 32 and _declared(event, "source")[0] == 64


def test_a_staff_message_declares_what_notifications_takes() -> None:
    send = notifications_pb2.SendNotificationRequest.DESCRIPTOR
    assert _declared(send, "subject")[0] == sending.MAX_SUBJECT_LENGTH
    assert _declared(send, "body")[0] == sending.MAX_EMAIL_BODY_LENGTH
    assert _declared(send, "request_id")[0] == 64


def test_a_new_password_declares_the_users_service_s_limit() -> None:
    change = users_pb2.ChangePasswordRequest.DESCRIPTOR
    assert _declared(change, "new_password")[0] == _declared(change, "current_password")[0] == MAX_PASSWORD_LENGTH


def test_an_item_type_declares_the_catalog_s_description_limit_and_the_longest_code_it_may_hold() -> None:
    kind = catalog_pb2.ItemType.DESCRIPTOR
    assert _declared(kind, "description")[0] == item_types.MAX_DESCRIPTION  # was 200: 101-200 passed the reference
    # New codes are 1-20, but a type migration 0010 made from old copies keeps their code (at most 64, the old
    # Copy.item_type limit): the type read back, and sent back on an update (which ignores `code`), must pass.
    assert _declared(kind, "code")[0] == _declared(catalog_pb2.Copy.DESCRIPTOR, "item_type")[0] == 64


def test_a_description_over_the_limit_is_refused_with_the_limit_the_catalog_keeps() -> None:
    longest = catalog_pb2.ItemType(code="T", description="d" * item_types.MAX_DESCRIPTION)
    check_request(catalog_pb2.CreateItemTypeRequest(item_type=longest))
    longest.description += "d"
    with pytest.raises(InvalidArgument, match="at most 100 characters"):
        check_request(catalog_pb2.CreateItemTypeRequest(item_type=longest))
    legacy = catalog_pb2.ItemType(name="itemTypes/X", code="A" * 64, description="kept from before the list")
    check_request(catalog_pb2.UpdateItemTypeRequest(item_type=legacy))


def test_a_patron_category_declares_the_32_characters_accounts_and_rules_take() -> None:
    """The API said 64 while users and loans refused a category over 32 (a letter, then up to 31)."""
    declared = {
        _declared(users_pb2.User.DESCRIPTOR, "patron_category")[0],
        _declared(users_pb2.ListUsersRequest.DESCRIPTOR, "patron_category")[0],
        _declared(loans_resources_pb2.CirculationRule.DESCRIPTOR, "patron_category")[0],
        _declared(loans_pb2.ListCirculationRulesRequest.DESCRIPTOR, "patron_category")[0],
    }
    assert declared == {users_validation.MAX_CATEGORY_LENGTH} == {loans_codes.MAX_CATEGORY_LENGTH} == {32}
    longest = "C" * 32
    assert users_validation.category_violation(longest) is None and loans_codes.category_violation(longest, "c") is None
    check_request(users_pb2.CreateUserRequest(user=users_pb2.User(patron_category=longest)))
    with pytest.raises(InvalidArgument, match="at most 32 characters"):
        check_request(users_pb2.CreateUserRequest(user=users_pb2.User(patron_category=longest + "C")))
    rule = loans_resources_pb2.CirculationRule(patron_category=longest + "C", item_type="BOOK")
    with pytest.raises(InvalidArgument, match="at most 32 characters"):
        check_request(loans_pb2.CreateCirculationRuleRequest(circulation_rule=rule))


def test_a_reader_s_preferences_may_name_every_kind_and_kinds_still_to_come() -> None:
    """The map held at most 20 entries, exactly the kinds there were: the next kind would have made a client that
    names every kind refused (INVALID_ARGUMENT) until the contract changed."""
    max_length, max_items = _declared(users_pb2.NotificationPreferences.DESCRIPTOR, "kinds")
    assert max_items >= 2 * len(users_validation.NOTIFICATION_KINDS)
    assert max_length >= max(len(kind) for kind in users_validation.NOTIFICATION_KINDS)
    every = {kind: users_pb2.ChannelChoice(email=True) for kind in users_validation.NOTIFICATION_KINDS}
    preferences = users_pb2.NotificationPreferences(email_opt_in=True, kinds=every)
    check_request(users_pb2.UpdateUserRequest(user=users_pb2.User(notification_preferences=preferences)))
