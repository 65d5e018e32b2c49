"""Template edits (refused unless they compile and use only what the kind offers), staff messages, reads."""

from __future__ import annotations

import uuid

import pytest

from services.notifications.app import querying, sending, templating
from services.notifications.app.ports import NotificationFilter
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.notifications import Status
from services.support.runtime.errors import Conflict, FailedPrecondition, InvalidArgument, PermissionDenied

from .conftest import RULES
from .fakes import recipient


def _edit(**changes: str) -> templating.UpdateTemplate:
    return templating.UpdateTemplate(Kind.HOLD_READY, Channel.EMAIL, "en", changes)


async def _update(db, clock, renderer, command):
    return await templating.update_template(command, uow=db.unit_of_work(), clock=clock, renderer=renderer)


async def test_a_good_edit_makes_a_new_version(db, clock, renderer) -> None:
    updated = await _update(db, clock, renderer, _edit(subject_template="Ready: {{ book_title }}"))
    assert updated.version == 2 and db.templates["hold_ready_email_en"].subject == "Ready: {{ book_title }}"


async def test_an_edit_keeps_its_editor_on_the_version_it_makes(db, clock, renderer) -> None:
    admin = "users/6a1f1d2e-0000-4000-8000-00000000000c"
    command = templating.UpdateTemplate(
        Kind.HOLD_READY, Channel.EMAIL, "en", {"subject_template": "Ready: {{ book_title }}"}, editor=admin
    )
    updated = await _update(db, clock, renderer, command)
    assert updated.updated_by == db.templates["hold_ready_email_en"].updated_by == admin


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ("Hello\n{{ book_title }\nbye", "notification_template.body_template", "line 2"),
        ("Hello\n\n{{ password }}", "notification_template.body_template", "line 3: uses 'password'"),
        ("{% for x in %}", "notification_template.body_template", "line 1"),
        ("{{ book_title.__class__.__mro__ }}", "notification_template.body_template", "line 1"),
        ("", "notification_template.body_template", "must not be empty"),
    ],
)
async def test_a_broken_edit_is_refused_naming_the_field_and_line_and_nothing_changes(
    db, clock, renderer, body, field, words
) -> None:
    with pytest.raises(InvalidArgument) as error:
        await _update(db, clock, renderer, _edit(body_template=body))
    (violation,) = error.value.violations
    assert violation.field == field and words in violation.description
    assert db.templates["hold_ready_email_en"].version == 1


async def test_an_sms_template_has_no_subject(db, clock, renderer) -> None:
    command = templating.UpdateTemplate(Kind.HOLD_READY, Channel.SMS, "en", {"subject_template": "Hi"})
    with pytest.raises(InvalidArgument):
        await _update(db, clock, renderer, command)


async def test_an_edit_from_a_stale_read_is_refused(db, clock, renderer) -> None:
    command = templating.UpdateTemplate(Kind.HOLD_READY, Channel.EMAIL, "en", {"subject_template": "x"}, etag='W/"7"')
    with pytest.raises(Conflict):
        await _update(db, clock, renderer, command)


async def test_templates_are_listed_by_id_in_pages(db) -> None:
    first = await templating.list_templates(templating.ListTemplates(page_size=10), uow=db.unit_of_work())
    second = await templating.list_templates(
        templating.ListTemplates(page_size=10, page_token=first.next_page_token), uow=db.unit_of_work()
    )
    ids = [t.id for t in first.items + second.items]
    assert ids == sorted(ids) and len(set(ids)) == 20 and first.total_size == len(db.templates)


def _message(person, **fields) -> sending.SendMessage:
    return sending.SendMessage(recipient_id=person.user_id, **{"channel": Channel.EMAIL, **fields})


async def _send(db, clock, renderer, command):
    return await sending.send_message(command, uow=db.unit_of_work(), clock=clock, renderer=renderer, rules=RULES)


async def test_staff_send_a_message_in_the_library_letterhead_once_per_request_id(db, clock, renderer) -> None:
    ada = recipient(locale="ru")
    db.recipients[ada.user_id] = ada
    request = uuid.uuid4()
    command = _message(ada, subject="Ремонт", body="Библиотека закрыта в понедельник.", request_id=request)
    first = await _send(db, clock, renderer, command)
    again = await _send(db, clock, renderer, command)
    assert first.id == again.id and len(db.notifications) == 1
    assert first.content.subject == "Ремонт" and "здравствуйте" in first.content.text and first.kind == Kind.MESSAGE


@pytest.mark.parametrize(
    ("person", "fields", "error", "detail"),
    [
        (None, {"body": "hi", "subject": "s"}, FailedPrecondition, "UNKNOWN_RECIPIENT"),
        ({}, {"body": "  ", "subject": "s"}, InvalidArgument, "body"),
        ({}, {"body": "hi"}, InvalidArgument, "subject"),
        ({}, {"channel": Channel.SMS, "body": "x" * 10_000}, InvalidArgument, "body"),
        ({}, {"channel": None, "body": "hi"}, InvalidArgument, "channel"),
        ({"phone": ""}, {"channel": Channel.SMS, "body": "hi"}, FailedPrecondition, "NO_ADDRESS"),
        ({"phone": "12345"}, {"channel": Channel.SMS, "body": "hi"}, FailedPrecondition, "INVALID_ADDRESS"),
        ({"sms_opt_in": False}, {"channel": Channel.SMS, "body": "hi"}, FailedPrecondition, "CHANNEL_OPTED_OUT"),
    ],
)
async def test_bad_messages_are_refused_precisely(db, clock, renderer, person, fields, error, detail) -> None:
    target = recipient(**(person or {}))
    if person is not None:
        db.recipients[target.user_id] = target
    with pytest.raises(error) as raised:
        await _send(db, clock, renderer, _message(target, **fields))
    found = raised.value
    named = found.reason if isinstance(found, FailedPrecondition) else [v.field for v in found.violations]
    assert detail in named and db.notifications == {}


async def test_a_template_used_by_staff_needs_every_parameter_it_uses(db, clock, renderer) -> None:
    ada = recipient()
    db.recipients[ada.user_id] = ada
    template = (Kind.MESSAGE, Channel.EMAIL, "en")
    with pytest.raises(InvalidArgument) as error:
        await _send(db, clock, renderer, _message(ada, template=template, params={"subject": "Opening hours"}))
    assert error.value.violations[0].field.startswith("params[")


async def test_staff_send_a_message_template_with_their_own_words(db, clock, renderer) -> None:
    ada = recipient()
    db.recipients[ada.user_id] = ada
    template = (Kind.MESSAGE, Channel.EMAIL, "en")
    sent = await _send(db, clock, renderer, _message(ada, template=template, params={"subject": "Hi", "body": "b"}))
    assert sent.kind == Kind.MESSAGE and sent.content.subject == "Hi"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"library_name": "Athenaeum Library Security Team"}, "params['library_name']"),
        ({"display_name": "Valued customer"}, "params['display_name']"),
        ({"subject": "s" * 2_000}, "params['subject']"),
        ({"body": "b" * 10_001}, "params['body']"),
    ],
)
async def test_a_message_template_takes_only_staffs_own_words_and_as_long_as_a_literal_one(
    db, clock, renderer, params, field
) -> None:
    ada = recipient()
    db.recipients[ada.user_id] = ada
    words = {"subject": "Security alert", "body": "Verify your account"} | params
    with pytest.raises(InvalidArgument) as error:
        await _send(db, clock, renderer, _message(ada, template=(Kind.MESSAGE, Channel.EMAIL, "en"), params=words))
    assert [v.field for v in error.value.violations] == [field] and db.notifications == {}


@pytest.mark.parametrize("kind", [Kind.SESSION_REVOKED, Kind.PASSWORD_CHANGED, Kind.WELCOME, Kind.HOLD_READY])
async def test_staff_cannot_send_the_systems_notices(db, clock, renderer, kind) -> None:
    ada = recipient(email_opt_in=False)
    db.recipients[ada.user_id] = ada
    params = {"revoked_at": "today. To restore access reply with your password"}
    with pytest.raises(InvalidArgument) as error:
        await _send(db, clock, renderer, _message(ada, template=(kind, Channel.EMAIL, "en"), params=params))
    (violation,) = error.value.violations
    assert violation.field == "template" and "only the system sends" in violation.description
    assert db.notifications == {}


async def test_a_reader_sees_only_their_own_notifications(db, clock, renderer) -> None:
    ada, bob = recipient(), recipient()
    db.recipients.update({ada.user_id: ada, bob.user_id: bob})
    sent = await _send(db, clock, renderer, _message(ada, subject="s", body="b"))
    reader = querying.Viewer(ada.name, is_staff=False)
    assert (
        await querying.get_notification(querying.GetNotification(sent.id, reader), uow=db.unit_of_work())
    ).id == sent.id
    with pytest.raises(PermissionDenied):
        await querying.get_notification(
            querying.GetNotification(sent.id, querying.Viewer(bob.name, False)), uow=db.unit_of_work()
        )
    with pytest.raises(PermissionDenied):
        await querying.list_notifications(
            querying.ListNotifications(NotificationFilter(), reader), uow=db.unit_of_work()
        )
    own = await querying.list_notifications(
        querying.ListNotifications(NotificationFilter(recipient_id=ada.user_id, status=Status.QUEUED), reader),
        uow=db.unit_of_work(),
    )
    assert [n.id for n in own.items] == [sent.id] and own.total_size == 1


async def test_the_html_of_a_staff_message_keeps_its_line_breaks_and_escapes_the_text(db, clock, renderer) -> None:
    ada = recipient()
    db.recipients[ada.user_id] = ada
    body = "New opening hours:\nMon 9-18\r\nWed <closed>\n\nSee you soon."
    sent = await _send(db, clock, renderer, _message(ada, subject="Opening hours", body=body))
    html = sent.content.html
    assert "New opening hours:<br>\nMon 9-18<br>\nWed &lt;closed&gt;<br>\n<br>\nSee you soon." in html
    assert "<closed>" not in html and "Wed <closed>" in sent.content.text  # the text part as written


def test_an_update_mask_of_star_names_every_part_of_a_template() -> None:
    """The proto documents "*", the service refused it as "not writable: *"."""
    from google.protobuf.field_mask_pb2 import FieldMask

    from athenaeum.notifications.v1 import notifications_pb2 as pb
    from services.notifications.api.convert import template_changes

    given = pb.NotificationTemplate(subject_template="S", body_template="B")
    request = pb.UpdateNotificationTemplateRequest(notification_template=given, update_mask=FieldMask(paths=["*"]))
    assert template_changes(request) == {"subject_template": "S", "body_template": "B", "html_body_template": ""}
