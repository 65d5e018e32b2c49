"""Composition root of the notifications service: build the graph once, then serve."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Sequence
from datetime import timedelta
from functools import partial

from athenaeum.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from athenaeum.users.v1 import events_pb2 as users_events
from services.notifications.api import events
from services.notifications.api.batching import GroupCommit
from services.notifications.api.consumers import (
    CATALOG,
    LOANS,
    USERS,
    CatalogHandler,
    ConcurrentConsumer,
    LoansHandler,
    ProjectionConsumer,
    UsersHandler,
)
from services.notifications.api.decoding import LoansDecoder
from services.notifications.api.decoding_users import recipient_of
from services.notifications.api.reminder_clock import ReminderClock
from services.notifications.api.servicer import NotificationsServicer
from services.notifications.api.workers import Dispatcher, DispatchSettings
from services.notifications.app.batching import BatchWriter
from services.notifications.app.notifying import TakenIn, take_in
from services.notifications.app.projection import projection_is_empty
from services.notifications.app.templating import seed_templates
from services.notifications.data.accounts import UsersAccounts
from services.notifications.data.batch_seeds import BATCH_TEMPLATES
from services.notifications.data.email import SmtpSender
from services.notifications.data.notifications import FINISHED_LONG_AGO
from services.notifications.data.peers import CatalogTitles
from services.notifications.data.reminders import STEPS_TOLD_LONG_AGO
from services.notifications.data.rendering import JinjaRenderer
from services.notifications.data.sms import TwilioStyleSender
from services.notifications.data.template_seeds import BUILTIN
from services.notifications.data.templates import TemplateCache
from services.notifications.data.unit_of_work import SqlNotificationsUnitOfWork
from services.notifications.domain.kinds import Channel
from services.notifications.domain.notifications import Status
from services.notifications.domain.occurrences import Intake
from services.notifications.settings import NotificationsSettings
from services.support.runtime.auth import RevocationFeed
from services.support.runtime.clock import SystemClock
from services.support.runtime.infrastructure import Infrastructure
from services.support.runtime.server import ServiceApp, mesh_channel, run, served
from services.support.runtime.settings import read_settings
from services.support.runtime.upkeep import delete_forever

NAME = "notifications"


async def build(settings: NotificationsSettings) -> ServiceApp:
    infra = Infrastructure.open(NAME, settings)
    clock = SystemClock()
    rules = settings.rules()
    renderer = JinjaRenderer()
    template_cache = TemplateCache(BUILTIN)

    def unit_of_work() -> SqlNotificationsUnitOfWork:
        return SqlNotificationsUnitOfWork(
            infra.sessions,
            encode=events.encode,
            templates=template_cache,
            on_commit=infra.relay.wake,
            read_sessions=infra.read_sessions,  # an event batch's recipients, read before anything is written
            on_driver=True,  # an event batch's recipients on the driver; the rest joins its transaction
        )

    await seed_templates(BUILTIN.values(), uow=unit_of_work())  # before serving: sending needs its templates
    senders: dict[Channel, SmtpSender | TwilioStyleSender] = {
        Channel.EMAIL: SmtpSender(settings.smtp()),
        Channel.SMS: TwilioStyleSender(settings.sms()),
    }
    dispatch = DispatchSettings(
        worker=settings.instance_name or f"{socket.gethostname()}:{settings.port}",
        concurrency=settings.dispatch_concurrency,
        lease=timedelta(seconds=settings.claim_lease_seconds),
        poll_seconds=settings.dispatch_poll_seconds,
    )
    writer = BatchWriter(BATCH_TEMPLATES, renderer, max_segments=rules.sms.max_segments)  # N5: one per reader
    dispatchers = {
        channel: Dispatcher(
            channel, sender, uow=unit_of_work, clock=clock, rules=rules, settings=dispatch, writer=writer
        )
        for channel, sender in senders.items()
    }

    def queued(channel: Channel) -> None:
        dispatchers[channel].wake()

    peers = mesh_channel(settings)
    catalog = CatalogTitles(peers)
    accounts = UsersAccounts(peers, read=recipient_of)  # the recipients the projection does not hold

    async def take(intakes: list[Intake]) -> Sequence[TakenIn]:
        taken = await take_in(
            intakes, uow=unit_of_work(), clock=clock, renderer=renderer, catalog=catalog, rules=rules, accounts=accounts
        )
        for channel in {n.channel for n in taken.queued if n.status == Status.QUEUED}:
            queued(channel)
        return [taken] * len(intakes)

    intake = GroupCommit(take, max_size=settings.consumer_batch)
    loans_spec = dataclasses.replace(LOANS, durable=f"{settings.consumer_group}-loans", batch=settings.consumer_batch)
    users_spec = dataclasses.replace(USERS, durable=f"{settings.consumer_group}-users")
    decoder = LoansDecoder(hold_notice=rules.hold_expiry_notice)
    loans = ConcurrentConsumer(
        infra.nats, loans_spec, LoansHandler(infra.nats, intake, decoder=decoder, durable=loans_spec.durable)
    )
    users = ProjectionConsumer(
        infra.nats,
        users_spec,
        UsersHandler(infra.nats, intake, uow=unit_of_work, durable=users_spec.durable),
        is_empty=lambda: projection_is_empty(uow=unit_of_work()),
    )
    catalog_spec = dataclasses.replace(CATALOG, durable=f"{settings.consumer_group}-catalog")
    new_books = ConcurrentConsumer(
        infra.nats, catalog_spec, CatalogHandler(infra.nats, intake, uow=unit_of_work, durable=catalog_spec.durable)
    )
    reminder_clock = ReminderClock(
        uow=unit_of_work,
        clock=clock,
        renderer=renderer,
        rules=rules,
        poll_seconds=settings.reminder_poll_seconds,
        on_queued=queued,
        accounts=accounts,
    )
    servicer = NotificationsServicer(
        uow=unit_of_work, clock=clock, renderer=renderer, rules=rules, on_queued=queued, accounts=accounts
    )
    kept = {"keep": timedelta(days=settings.notifications_kept_days)}
    app = infra.app(
        [
            served(
                notifications_pb2.DESCRIPTOR.services_by_name["NotificationsService"],
                notifications_pb2_grpc.add_NotificationsServiceServicer_to_server,
                servicer,
            )
        ],
        revocations=RevocationFeed.of_event("users", users_events.SessionRevoked),
        consumers=[loans, users, new_books],
        background=[
            *(dispatcher.run for dispatcher in dispatchers.values()),
            reminder_clock.run,
            partial(
                delete_forever,
                infra.engine,
                [FINISHED_LONG_AGO, STEPS_TOLD_LONG_AGO],
                kept,
                what="finished notifications and reminder steps told",
            ),
        ],
    )
    app.closers = [*app.closers, *(sender.close for sender in senders.values())]
    return app


def main() -> None:
    settings = read_settings(NotificationsSettings)  # a wrong setting: one line naming it, exit 1
    run(partial(build, settings), settings=settings, name=NAME)


if __name__ == "__main__":
    main()
