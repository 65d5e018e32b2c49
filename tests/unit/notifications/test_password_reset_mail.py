# ruff: noqa: RUF001  (Russian wording is not a homoglyph attack)
"""The reset link mail: a users PasswordResetRequested becomes an email with the link to the web client's reset
page (token in the fragment); the API's and the events' view of it withholds the token."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from athenaeum.users.v1 import events_pb2 as users
from services.notifications.api import decoding_users
from services.notifications.api.convert import notification_to_proto
from services.notifications.app.notifying import take_in
from services.notifications.data.template_seeds import BUILTIN
from services.notifications.domain.kinds import WITHHELD, Channel, Kind
from services.support.runtime.wire import event_subject

from .conftest import NOON, RULES
from .fakes import recipient

TOKEN = "q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0x1c"


def _requested(user_id: uuid.UUID) -> bytes:
    at, expires = Timestamp(), Timestamp()
    at.FromDatetime(NOON)
    expires.FromDatetime(NOON + timedelta(minutes=30))
    event = users.PasswordResetRequested(
        event_id=str(uuid.uuid4()), occur_time=at, name=f"users/{user_id}", token=TOKEN, expire_time=expires
    )
    return event.SerializeToString()


async def _mails(db, clock, renderer, catalog, person, locale: str = "en"):
    db.recipients[person.user_id] = replace(person, locale=locale)
    subject = event_subject("users", users.PasswordResetRequested())
    update = decoding_users.users_update(subject, _requested(person.user_id), trace={})
    assert update.intake is not None
    rules = replace(RULES, web_url="https://library.example.org")
    taken = await take_in(
        [update.intake], uow=db.unit_of_work(), clock=clock, renderer=renderer, catalog=catalog, rules=rules
    )
    return [n for n in taken.queued if n.channel == Channel.EMAIL]


async def test_the_reset_mail_links_to_the_web_clients_reset_page_with_the_token_in_the_fragment(
    db, clock, renderer, catalog
) -> None:
    ada = recipient(email_opt_in=False)  # a security notice: sent whatever the preferences say
    (mail,) = await _mails(db, clock, renderer, catalog, ada)
    link = f"https://library.example.org/#/reset-password?token={TOKEN}"
    assert mail.kind == Kind.PASSWORD_RESET and mail.content.subject == "Reset your password"
    assert link in mail.content.text and link in mail.content.html
    assert mail.stale_at == NOON + timedelta(minutes=30)  # not worth sending once the link no longer works


async def test_the_russian_reset_mail_carries_the_same_link(db, clock, renderer, catalog) -> None:
    (mail,) = await _mails(db, clock, renderer, catalog, recipient(), locale="ru")
    assert mail.content.subject == "Сброс пароля"
    assert f"https://library.example.org/#/reset-password?token={TOKEN}" in mail.content.text


async def test_staff_listing_the_readers_notifications_do_not_see_the_token(db, clock, renderer, catalog) -> None:
    (mail,) = await _mails(db, clock, renderer, catalog, recipient())
    shown = notification_to_proto(mail)
    assert TOKEN not in str(shown.params) and TOKEN not in shown.body and TOKEN not in shown.subject
    assert shown.params["reset_token"] == WITHHELD and WITHHELD in shown.body


async def test_the_reset_link_goes_by_email_only_never_by_sms(db, clock, renderer, catalog) -> None:
    ada = recipient(sms_opt_in=True, phone="+64211234567")  # nobody verified that number: it may be someone else's
    db.recipients[ada.user_id] = ada
    update = decoding_users.users_update(
        event_subject("users", users.PasswordResetRequested()), _requested(ada.user_id), trace={}
    )
    assert update.intake is not None
    taken = await take_in(
        [update.intake], uow=db.unit_of_work(), clock=clock, renderer=renderer, catalog=catalog, rules=RULES
    )
    assert [n.channel for n in taken.queued] == [Channel.EMAIL]
    assert not [t.id for t in BUILTIN.values() if t.channel == Channel.SMS and "reset_token" in t.body]
