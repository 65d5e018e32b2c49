"""A users service's account is read into a recipient in one place, whether an event brings it or the users
service is asked for it; only the moment its status is known to hold differs between the two."""

from __future__ import annotations

import uuid
from datetime import timedelta

import grpc

from athenaeum.users.v1 import events_pb2 as users
from athenaeum.users.v1 import users_pb2
from services.notifications.api.decoding_users import recipient_of, users_update
from services.notifications.data.accounts import UsersAccounts
from services.notifications.domain.recipients import AccountStatus, ChannelChoice
from services.support.runtime.wire import event_subject, timestamp

from .conftest import NOON

CHANGED = NOON - timedelta(days=3)
"""When the account last changed (its update_time), days before the event that carries it."""


def _account(user_id: uuid.UUID) -> users_pb2.User:
    prefs = users_pb2.NotificationPreferences(
        email_opt_in=True, sms_opt_in=True, kinds={"LOAN_OVERDUE": users_pb2.ChannelChoice(email=False, sms=True)}
    )
    return users_pb2.User(
        name=f"users/{user_id}", email="ada@example.org", phone="+79991234567", display_name="Ada",
        card_number="2900", home_branch="branches/main", locale="ru", time_zone="Europe/Moscow",
        status=users_pb2.USER_STATUS_BLOCKED, notification_preferences=prefs, etag='W/"7"',
        update_time=timestamp(CHANGED),
    )  # fmt: skip


class _Users:
    """GetUser answered from a dict, as the users service would."""

    def __init__(self, accounts: dict[str, users_pb2.User]) -> None:
        self.accounts = accounts

    async def GetUser(self, request: users_pb2.GetUserRequest, **_: object) -> users_pb2.User:
        return self.accounts[request.name]


async def test_an_account_asked_of_the_users_service_counts_its_status_from_its_last_change() -> None:
    user_id = uuid.uuid4()
    accounts = UsersAccounts(grpc.aio.insecure_channel("localhost:1"), read=recipient_of)
    accounts._stub = _Users({f"users/{user_id}": _account(user_id)})  # type: ignore[assignment]
    found = (await accounts.look_up([user_id]))[user_id]
    assert found is not None
    assert found.status_at == CHANGED
    assert (found.status, found.version, found.time_zone) == (AccountStatus.BLOCKED, 7, "Europe/Moscow")
    assert found.kinds == {"LOAN_OVERDUE": ChannelChoice(email=False, sms=True)}


def test_an_account_an_event_brings_counts_its_status_from_the_event() -> None:
    user_id = uuid.uuid4()
    event = users.UserUpdated(event_id=str(uuid.uuid4()), occur_time=timestamp(NOON), user=_account(user_id))
    update = users_update(event_subject("users", event), event.SerializeToString(), trace={})
    assert update.profile is not None
    assert update.profile.recipient.status_at == NOON


async def test_both_readings_agree_on_everything_but_the_status_time() -> None:
    user_id = uuid.uuid4()
    accounts = UsersAccounts(grpc.aio.insecure_channel("localhost:1"), read=recipient_of)
    accounts._stub = _Users({f"users/{user_id}": _account(user_id)})  # type: ignore[assignment]
    asked = (await accounts.look_up([user_id]))[user_id]
    event = users.UserRegistered(event_id=str(uuid.uuid4()), occur_time=timestamp(NOON), user=_account(user_id))
    brought = users_update(event_subject("users", event), event.SerializeToString(), trace={}).profile
    assert asked is not None and brought is not None
    assert brought.recipient == recipient_of(_account(user_id), status_at=NOON)
    assert asked == recipient_of(_account(user_id), status_at=CHANGED)
