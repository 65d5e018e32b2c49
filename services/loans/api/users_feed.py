"""The users service's events in: each account it announces (registered or changed, with its version)
becomes a row of the projection loans lends by (domain/patrons.py). The consumer reads only those two kinds
of event, so it is caught up, which is what lets an issue trust the projection, once it has seen every one
of them (sign-ins, sessions and passwords change nothing here and are not delivered)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, tzinfo

from google.protobuf.message import DecodeError
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from athenaeum.users.v1 import events_pb2 as users_events
from athenaeum.users.v1 import users_pb2
from services.loans.app.patrons import StreamSeen, follow_stream, forget_accounts, keep_account
from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.patrons import PatronRecord
from services.support.runtime.clock import Clock
from services.support.runtime.consumers import DurableConsumer
from services.support.runtime.messaging import ConsumerSpec, NatsLink, stream_name
from services.support.runtime.versioning import version_of
from services.support.runtime.wire import event_subject, to_datetime

log = logging.getLogger("athenaeum.loans.patrons")
_REGISTERED = event_subject("users", users_events.UserRegistered())
_UPDATED = event_subject("users", users_events.UserUpdated())
# Only the events that announce an account: sign-ins and the rest never reach loans, so a burst of them does
# not keep the consumer behind (the fence of data/projected_users.py). Never dead-lettered (max_deliver -1): a
# change of an account skipped would leave the consumer looking caught up without it. A message whose handling
# fails (the database away) is retried, and while it waits issues ask the users service; one that can never be
# read makes the projection forget every record instead.
ACCOUNTS = ConsumerSpec(
    stream=stream_name("users"), durable="loans-patrons", filter_subject=(_REGISTERED, _UPDATED), max_deliver=-1
)


def patron_record(subject: str, data: bytes) -> PatronRecord | None:
    """The account an event announces, or None (another kind of event, or an account without a name or a
    readable version: that one is logged and skipped, nothing is stored, and the users service is asked about
    that patron as before)."""
    if subject == _REGISTERED:
        user = users_events.UserRegistered.FromString(data).user
    elif subject == _UPDATED:
        user = users_events.UserUpdated.FromString(data).user
    else:
        return None
    version = version_of(user.etag)  # 0 when it carries none: no account's version is 0
    if not user.name or not version:
        # Not retried (it will never read better); visible, as a users service writing such events needs fixing.
        log.warning("%s skipped: account %.200r has no readable version (etag %.40r)", subject, user.name, user.etag)
        return None
    return PatronRecord(
        patron=user.name,
        version=version,
        status=_status(user.status),
        patron_category=user.patron_category,
        home_branch=user.home_branch,
        expire_at=to_datetime(user.expire_time) if user.HasField("expire_time") else None,
        display_name=user.display_name,
        card_number=user.card_number,
    )


def _status(value: users_pb2.UserStatus.ValueType) -> str:
    """ACTIVE, BLOCKED, …; a status this build does not know is kept as such (and lends nothing)."""
    known = value in users_pb2.UserStatus.values()
    return users_pb2.UserStatus.Name(value).removeprefix("USER_STATUS_") if known else f"UNKNOWN_{value}"


class AccountsConsumer(DurableConsumer):
    """The durable consumer that keeps the projection (each message acked after its commit, retried while
    the database is away). Before each (re)subscription it checks that the stream is the one the projection
    was built from and that nothing left it unread (app/patrons.follow_stream forgets the projection
    otherwise); `ready()` is true only from then on, while it is up."""

    def __init__(
        self,
        link: NatsLink,
        uow: Callable[[], LoansUnitOfWork],
        spec: ConsumerSpec = ACCOUNTS,
        *,
        clock: Clock,
        catalog: Catalog | None = None,
        zone: tzinfo = UTC,
    ) -> None:
        super().__init__(link, spec, self._keep)
        self._uow = uow
        self._clock = clock
        self._catalog = catalog
        """Releases the copy set aside for a closed account's hold at once (else the reconciler does)."""
        self._zone = zone
        self._checked = False

    def ready(self) -> bool:
        return self._checked and self.health.is_up()

    async def _subscribe(self, js: JetStreamContext) -> JetStreamContext.PullSubscription:
        self._checked = False
        stream = await js.stream_info(self.spec.stream)
        try:
            delivered = (await js.consumer_info(self.spec.stream, self.spec.durable)).delivered.stream_seq or 0
        except NotFoundError:
            delivered = 0  # a new consumer: what expired before it may never have been applied here
        first = stream.state.first_seq or 0
        # Something after the last account event delivered has expired: perhaps an account event. (Also when no
        # account changed for the stream's whole retention, 30 days, while others were published: starting over
        # is then needless but safe, the users service is asked until accounts are announced again.)
        seen = StreamSeen(self.spec.stream, str(stream.created), lost_messages=delivered + 1 < first)
        if await follow_stream(seen, uow=self._uow()):
            log.warning("users stream %s is not the one the projection was built from: it starts again", seen)
        subscription = await super()._subscribe(js)
        self._checked = True
        return subscription

    async def _keep(self, message: Msg) -> None:
        try:
            record = patron_record(message.subject, message.data)
        except DecodeError:  # never readable, so never retried; but it may have been any account's change
            forgotten = await forget_accounts(uow=self._uow())
            log.error("unreadable %s: the projection of accounts forgot its %d records", message.subject, forgotten)
            return
        if record is not None:
            await keep_account(record, uow=self._uow(), clock=self._clock, catalog=self._catalog, zone=self._zone)
