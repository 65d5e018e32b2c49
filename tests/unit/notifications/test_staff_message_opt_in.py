"""A staff message refused by the projection (opted out, no phone) is checked with the users service first: a
reader who has just opted in gets it; a refusal is not kept for the request_id (it may not hold by the retry)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.notifications.app import sending
from services.notifications.domain.kinds import Channel
from services.notifications.domain.notifications import Status
from services.support.runtime.errors import FailedPrecondition

from .conftest import RULES
from .fake_peers import FakeUsers
from .fakes import recipient


async def _send(db, clock, renderer, users, person, request_id=None):
    command = sending.SendMessage(person.user_id, Channel.SMS, body="Your book is ready", request_id=request_id)
    return await sending.send_message(
        command, uow=db.unit_of_work(), clock=clock, renderer=renderer, rules=RULES, accounts=users
    )


async def test_a_reader_who_just_opted_in_gets_the_staff_sms(db, clock, renderer) -> None:
    opted_in = recipient(version=3)
    db.recipients[opted_in.user_id] = replace(opted_in, sms_opt_in=False, phone="", version=2)  # behind
    sent = await _send(db, clock, renderer, FakeUsers(opted_in), opted_in)
    assert sent.status == Status.QUEUED and sent.address == opted_in.phone
    assert db.recipients[opted_in.user_id].sms_opt_in  # the projection keeps what the users service said


async def test_a_confirmed_opt_out_is_refused_but_not_kept_for_the_request_id(db, clock, renderer) -> None:
    opted_out = recipient(sms_opt_in=False, version=2)
    db.recipients[opted_out.user_id] = opted_out
    users = FakeUsers(opted_out)
    with pytest.raises(FailedPrecondition) as refused:
        await _send(db, clock, renderer, users, opted_out)
    assert refused.value.reason == "CHANNEL_OPTED_OUT" and not refused.value.lasting
    assert users.asked == [{opted_out.user_id}]


async def test_an_unconfirmed_opt_out_is_not_kept_for_the_request_id(db, clock, renderer) -> None:
    opted_out = recipient(sms_opt_in=False, version=2)
    db.recipients[opted_out.user_id] = opted_out
    users = FakeUsers(opted_out)
    users.down = True
    with pytest.raises(FailedPrecondition) as refused:
        await _send(db, clock, renderer, users, opted_out)
    assert refused.value.reason == "CHANNEL_OPTED_OUT" and not refused.value.lasting
