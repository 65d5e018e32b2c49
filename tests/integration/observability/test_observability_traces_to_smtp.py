"""One trace from the loan's RPC, through JetStream, to the SMTP send: the notifications pipeline runs in
this process (consumer, intake, dispatcher) on the session's Postgres, NATS and mail sink, so an in-memory
exporter sees its spans."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import nats as nats_client
import pytest
from jetstream_durables import start_at_new_messages
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from span_recording import record_spans
from sqlalchemy.ext.asyncio import create_async_engine

from athenaeum.loans.v1 import events_pb2 as loans
from athenaeum.loans.v1 import resources_pb2
from services.notifications.api import events
from services.notifications.api.batching import GroupCommit
from services.notifications.api.consumers import LOANS, ConcurrentConsumer, LoansHandler
from services.notifications.api.decoding import LoansDecoder
from services.notifications.api.workers import Dispatcher, DispatchSettings
from services.notifications.app.notifying import Rules, take_in
from services.notifications.app.projection import ProfileSeen, apply_profile
from services.notifications.app.templating import seed_templates
from services.notifications.data.email import SmtpSender, SmtpSettings
from services.notifications.data.rendering import JinjaRenderer
from services.notifications.data.template_seeds import BUILTIN
from services.notifications.data.templates import TemplateCache
from services.notifications.data.unit_of_work import SqlNotificationsUnitOfWork
from services.notifications.domain.delivery import SmsPolicy
from services.notifications.domain.kinds import Channel
from services.notifications.domain.recipients import AccountStatus, Recipient
from services.support.runtime.clock import SystemClock
from services.support.runtime.engine import session_factory
from services.support.runtime.messaging import NatsLink
from services.support.runtime.migrations import upgrade_to_head
from services.support.runtime.settings import BaseServiceSettings
from services.support.runtime.tracing import publishing, trace_headers
from services.support.runtime.wire import event_subject, timestamp

pytestmark = pytest.mark.integration
EXPORTER = InMemorySpanExporter()


@pytest.fixture
async def pipeline(postgres, nats, sinks) -> AsyncIterator[tuple[str, Recipient]]:
    record_spans(EXPORTER, service="notifications-test", settings=BaseServiceSettings())
    url = await asyncio.to_thread(postgres.fresh_database, "notifications_trace")
    await asyncio.to_thread(upgrade_to_head, "notifications", url)
    engine = create_async_engine(url)
    cache, clock, renderer = TemplateCache(BUILTIN), SystemClock(), JinjaRenderer()
    rules = Rules(sms=SmsPolicy(quiet_start=None, quiet_end=None))

    def uow() -> SqlNotificationsUnitOfWork:
        return SqlNotificationsUnitOfWork(session_factory(engine), encode=events.encode, templates=cache)

    await seed_templates(BUILTIN.values(), uow=uow())
    patron = Recipient(
        uuid.uuid4(), email=f"t-{uuid.uuid4().hex[:8]}@example.org", status=AccountStatus.ACTIVE, version=1
    )
    await apply_profile(ProfileSeen(patron), uow=uow())
    smtp = SmtpSender(SmtpSettings(host="127.0.0.1", port=sinks.addresses.smtp_port, from_address="lib@example.org"))
    dispatcher = Dispatcher(Channel.EMAIL, smtp, uow=uow, clock=clock, rules=rules,
                            settings=DispatchSettings(worker=f"trace-{uuid.uuid4().hex[:6]}"))  # fmt: skip

    class NoCatalog:
        async def book_title(self, book: str) -> str:
            return ""

    async def take(intakes):
        taken = await take_in(intakes, uow=uow(), clock=clock, renderer=renderer, catalog=NoCatalog(), rules=rules)
        dispatcher.wake()
        return [taken] * len(intakes)

    link = NatsLink(nats, name="notifications-trace-test")
    durable = f"trace-{uuid.uuid4().hex[:8]}"
    spec = LOANS.__class__(stream=LOANS.stream, durable=durable, filter_subject=LOANS.filter_subject)
    handler = LoansHandler(link, GroupCommit(take, max_size=64), decoder=LoansDecoder(hold_notice=timedelta(0)))
    consumer = ConcurrentConsumer(link, spec, handler)
    tasks = [asyncio.create_task(link.run())]
    await asyncio.wait_for(link.wait_connected(), 10)  # the link declares the streams
    # A durable of its own on the shared loans stream: the session's backlog would stand before its one event.
    await start_at_new_messages(link.jetstream(), spec)
    tasks += [asyncio.create_task(job()) for job in (consumer.run, dispatcher.run)]
    try:
        yield nats, patron
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await smtp.close()
        await link.close()
        await engine.dispose()


async def test_the_loans_request_the_event_and_the_smtp_send_are_one_trace(pipeline, mail_sink) -> None:
    nats_url, patron = pipeline
    since = mail_sink.count()
    loan = resources_pb2.Loan(name=f"loans/{uuid.uuid4()}", patron=patron.name, book_title="Dead Souls",
                              due_time=timestamp(datetime.now(UTC) + timedelta(days=2)))  # fmt: skip
    event = loans.LoanDueSoon(event_id=str(uuid.uuid4()), occur_time=timestamp(datetime.now(UTC)), loan=loan, step=1)
    subject = event_subject("loans", event)
    tracer = trace.get_tracer("test")
    client = await nats_client.connect(nats_url)
    with (
        tracer.start_as_current_span("/athenaeum.loans.v1.LoansService/RenewLoan", kind=SpanKind.SERVER) as root,
        publishing(subject, message_id=event.event_id, headers=trace_headers()) as headers,  # what the relay does
    ):
        await client.jetstream().publish(subject, event.SerializeToString(), headers=headers)
    await client.close()

    # The consumer's and the send's spans end when each is done: wait for both (a loaded machine takes seconds).
    wanted = {f"process {subject}", "send email"}
    deadline = time.monotonic() + 30
    trace_id = root.get_span_context().trace_id
    while True:
        same_trace = [s for s in EXPORTER.get_finished_spans() if s.context.trace_id == trace_id]
        names = {s.name for s in same_trace}
        if wanted <= names or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert f"process {subject}" in names and "send email" in names, names
    assert any(patron.email in m["rcpt_tos"] for m in mail_sink.messages(since=since)), "no letter sent"
    send = next(s for s in same_trace if s.name == "send email")
    consume = next(s for s in same_trace if s.name == f"process {subject}")
    assert send.kind == SpanKind.CLIENT and send.parent.span_id == consume.context.span_id
