"""The base of every domain event: what happened, when, with an id that makes delivery idempotent.

Pure: aggregates record events (`self.events.append(...)`); the unit of work writes them to the outbox at
commit, and the relay publishes each with Nats-Msg-Id = event_id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    occurred_at: datetime
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)
