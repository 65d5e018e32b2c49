"""A test's own durable on a stream the session shares, made to start at the messages published after it: shared
by the integration tests that run a service's consumer under a durable name of their own."""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from services.support.runtime.consumers import SERVER_DELIVERIES
from services.support.runtime.messaging import ConsumerSpec


async def start_at_new_messages(js: JetStreamContext, spec: ConsumerSpec) -> None:
    """Made before the consumer binds to it (with the config DurableConsumer gives it, so that it is bound as it
    is), the durable skips the stream's backlog: what the session's earlier tests published there (a loans event
    for a recipient unknown here is retried with backoff, an item type change is one transaction at a time)
    would otherwise stand before the test's own messages for longer than it waits for them."""
    subjects = spec.subjects
    await js.add_consumer(spec.stream, config=ConsumerConfig(
        durable_name=spec.durable, deliver_policy=DeliverPolicy.NEW, ack_policy=AckPolicy.EXPLICIT,
        filter_subject=subjects[0] if len(subjects) == 1 else None,
        filter_subjects=list(subjects) if len(subjects) > 1 else None,
        max_deliver=SERVER_DELIVERIES if spec.max_deliver > 0 else -1, ack_wait=spec.ack_wait_seconds,
        max_ack_pending=spec.max_ack_pending,
    ))  # fmt: skip
