"""The API reference shows each field's declared limit (`maxLength`, `maxItems`); where a service enforces a
tighter one, the proto declares that one, so a client validating against the reference is refused for
nothing it could not know (events and notifications advertised the 10,000-character fallback)."""

from __future__ import annotations

from google.protobuf.descriptor import Descriptor

from athenaeum.api.v1 import limits_pb2
from athenaeum.events.v1 import events_pb2
from athenaeum.notifications.v1 import notifications_pb2
from athenaeum.users.v1 import users_pb2
from services.events.domain import rules
from services.notifications.app import sending
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
