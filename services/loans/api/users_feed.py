"""The users service's events in: each account it announces (registered or changed, with its version)
becomes a row of the projection loans lends by (domain/patrons.py). Every other users event (sign-ins,
sessions, passwords) is acknowledged as it comes: the consumer filters on the users stream as a whole, so it
is caught up, which is what lets an issue trust the projection, only once it has seen those too."""

from __future__ import annotations

import re
from collections.abc import Callable

from nats.aio.msg import Msg

from athenaeum.users.v1 import events_pb2 as users_events
from athenaeum.users.v1 import users_pb2
from services.loans.app.patrons import keep_account
from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.patrons import PatronRecord
from services.support.runtime.consumers import DurableConsumer
from services.support.runtime.messaging import ConsumerSpec, NatsLink, stream_name
from services.support.runtime.wire import event_subject, to_datetime

# Never dead-lettered (max_deliver -1): a change of an account skipped would leave the consumer looking caught
# up without it. A message that cannot be handled is retried, and while it waits issues ask the users service.
ACCOUNTS = ConsumerSpec(
    stream=stream_name("users"), durable="loans-patrons", filter_subject="athenaeum.users.>", max_deliver=-1
)
_REGISTERED = event_subject("users", users_events.UserRegistered())
_UPDATED = event_subject("users", users_events.UserUpdated())
_VERSION = re.compile(r'W/"(\d{1,18})"')


def patron_record(subject: str, data: bytes) -> PatronRecord | None:
    """The account an event announces, or None (another kind of event, or one without a readable version:
    then nothing is stored, and the users service is asked about that patron as before)."""
    if subject == _REGISTERED:
        user = users_events.UserRegistered.FromString(data).user
    elif subject == _UPDATED:
        user = users_events.UserUpdated.FromString(data).user
    else:
        return None
    version = _VERSION.fullmatch(user.etag)
    if not user.name or version is None:
        return None
    return PatronRecord(
        patron=user.name,
        version=int(version.group(1)),
        status=_status(user.status),
        patron_category=user.patron_category,
        home_branch=user.home_branch,
        expire_at=to_datetime(user.expire_time) if user.HasField("expire_time") else None,
    )


def _status(value: users_pb2.UserStatus.ValueType) -> str:
    """ACTIVE, BLOCKED, …; a status this build does not know is kept as such (and lends nothing)."""
    known = value in users_pb2.UserStatus.values()
    return users_pb2.UserStatus.Name(value).removeprefix("USER_STATUS_") if known else f"UNKNOWN_{value}"


def accounts_consumer(
    link: NatsLink, uow: Callable[[], LoansUnitOfWork], *, spec: ConsumerSpec = ACCOUNTS
) -> DurableConsumer:
    """The durable consumer that keeps the projection (acked after its commit; retried while the database is
    away, as every durable consumer is)."""

    async def handle(message: Msg) -> None:
        record = patron_record(message.subject, message.data)
        if record is not None:
            await keep_account(record, uow=uow())

    return DurableConsumer(link, spec, handle)
