"""A changed email or phone is told to the address the account had before (finding A6): a security notice,
whatever the preferences say, naming the new address only in part, sent there even once the account has moved."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest

from athenaeum.users.v1 import events_pb2 as users
from athenaeum.users.v1 import users_pb2
from services.notifications.api.batching import GroupCommit
from services.notifications.api.consumers import UsersHandler
from services.notifications.app import delivering
from services.notifications.app.notifying import take_in
from services.notifications.domain.address_changes import mask_email, mask_phone
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.notifications import Status
from services.support.runtime.wire import event_subject, timestamp
from services.users.domain.validation import NOTIFICATION_KINDS

from .conftest import NOON, RULES


@dataclass
class Message:
    subject: str
    data: bytes


@pytest.fixture
def handler(db, clock, renderer, catalog) -> UsersHandler:
    async def take(intakes):
        taken = await take_in(intakes, uow=db.unit_of_work(), clock=clock, renderer=renderer, catalog=catalog,
                              rules=RULES)  # fmt: skip
        return [taken] * len(intakes)

    return UsersHandler(None, GroupCommit(take, max_size=16), uow=db.unit_of_work)  # type: ignore[arg-type]


USER = f"users/{uuid.uuid4()}"


def account(version: int, *, email: str = "ada@example.org", phone: str = "+79991234567", sms: bool = True,
            opted_in: bool = True) -> users_pb2.User:  # fmt: skip
    prefs = users_pb2.NotificationPreferences(email_opt_in=opted_in, sms_opt_in=sms)
    return users_pb2.User(name=USER, email=email, phone=phone, display_name="Ada", etag=f'W/"{version}"',
                          status=users_pb2.USER_STATUS_ACTIVE, notification_preferences=prefs)  # fmt: skip


def message(event) -> Message:
    return Message(event_subject("users", event), event.SerializeToString())


def registered(user) -> Message:
    return message(users.UserRegistered(event_id=str(uuid.uuid4()), occur_time=timestamp(NOON), user=user))


def updated(user, *, event_id: str = "") -> Message:
    event_id = event_id or str(uuid.uuid4())
    return message(users.UserUpdated(event_id=event_id, occur_time=timestamp(NOON + timedelta(hours=1)), user=user))


def told(db, kind: Kind):
    return sorted((n for n in db.notifications.values() if n.kind == kind), key=lambda n: n.channel.value)


def test_the_new_address_is_named_only_in_part() -> None:
    assert mask_email("ada.new@example.org") == "a…@example.org"
    assert mask_phone("+15550002222") == "+1…22"
    assert mask_email("") == mask_phone("") == ""


def test_every_kind_notifications_sends_is_one_a_user_may_choose_channels_for() -> None:
    assert {kind.value for kind in Kind} == set(NOTIFICATION_KINDS)


async def test_a_changed_email_is_told_to_the_previous_address_even_once_the_account_moved(db, clock, handler) -> None:
    await handler(registered(account(1, opted_in=False, sms=False)))
    await handler(updated(account(2, email="ada.new@example.org", opted_in=False, sms=False)))
    (notice,) = told(db, Kind.EMAIL_CHANGED)
    assert (notice.channel, notice.address, notice.status) == (Channel.EMAIL, "ada@example.org", Status.QUEUED)
    assert "a…@example.org" in notice.content.text and "ada.new" not in notice.content.text
    assert notice.content.subject == "The email address of your account was changed"
    assert db.recipients[uuid.UUID(USER.split("/")[1])].email == "ada.new@example.org"
    (claimed,) = await delivering.claim_due(
        delivering.ClaimDue(Channel.EMAIL, 10, "w1", timedelta(seconds=30)), uow=db.unit_of_work(), clock=clock,
        rules=RULES,
    )  # fmt: skip
    assert claimed.id == notice.id and claimed.address == "ada@example.org"


async def test_a_changed_phone_is_told_to_the_previous_phone_and_email_even_as_sms_is_turned_off(db, handler) -> None:
    await handler(registered(account(1)))
    await handler(updated(account(2, phone="+15550002222", sms=False)))
    email, sms = told(db, Kind.PHONE_CHANGED)
    assert (email.address, sms.address) == ("ada@example.org", "+79991234567")
    assert "+1…22" in email.content.text and "+1...22" in sms.content.text  # the SMS in GSM-7
    assert all("0002222" not in n.content.text for n in (email, sms))
    assert told(db, Kind.EMAIL_CHANGED) == []


async def test_a_redelivered_update_tells_once_and_one_keeping_the_addresses_tells_nothing(db, handler) -> None:
    await handler(registered(account(1)))
    event_id = str(uuid.uuid4())
    both = account(2, email="eve@example.net", phone="+15550002222")
    before = dict(db.recipients)
    await handler(updated(both, event_id=event_id))
    db.recipients.update(before)  # as if the process died before the projection took the update
    await handler(updated(both, event_id=event_id))
    await handler(updated(both, event_id=event_id))
    await handler(updated(account(3, email="eve@example.net", phone="+15550002222", sms=False)))
    assert [(n.kind, n.channel, n.address) for n in told(db, Kind.EMAIL_CHANGED) + told(db, Kind.PHONE_CHANGED)] == [
        (Kind.EMAIL_CHANGED, Channel.EMAIL, "ada@example.org"),
        (Kind.EMAIL_CHANGED, Channel.SMS, "+79991234567"),
        (Kind.PHONE_CHANGED, Channel.EMAIL, "ada@example.org"),
        (Kind.PHONE_CHANGED, Channel.SMS, "+79991234567"),
    ]
