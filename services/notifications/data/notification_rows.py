"""A notification as a row of the notifications table, and back."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.notifications import Content, Notification, Status


def json_value(value: object) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not stored as JSON: {type(value).__name__}")


def to_row(n: Notification) -> dict[str, Any]:
    c = n.content
    return {
        "recipient_id": n.recipient_id,
        "channel": n.channel.value,
        "address": n.address,
        "kind": n.kind.value,
        "template": c.template,
        "template_version": c.template_version,
        "locale": c.locale,
        "params": n.params,
        "subject": c.subject,
        "body": c.text,
        "html": c.html,
        "status": n.status.value,
        "attempts": n.attempts,
        "max_attempts": n.max_attempts,
        "last_error": n.last_error,
        "suppress_reason": n.suppress_reason,
        "provider_message_id": n.provider_message_id,
        "source_event_id": n.source_event_id,
        "event_at": n.event_at,
        "created_at": n.created_at,
        "updated_at": n.updated_at,
        "sent_at": n.sent_at,
        "next_attempt_at": n.next_attempt_at,
        "trace": n.trace,
        "time_zone": n.time_zone,
        "version": n.version,
        "sent_by": n.sent_by,
        "retried_by": n.retried_by,
        "about": n.about,
        "stale_at": n.stale_at,
    }


def to_notification(row: sa.Row[Any] | Mapping[str, Any]) -> Notification:
    """From SQLAlchemy's row or a row read by column name (its mapping, or the driver's record)."""
    m = row._mapping if isinstance(row, sa.Row) else row
    return Notification(
        id=m["id"],
        recipient_id=m["recipient_id"],
        channel=Channel(m["channel"]),
        address=m["address"],
        kind=Kind(m["kind"]),
        content=Content(m["subject"], m["body"], m["html"], m["template"], m["template_version"], m["locale"]),
        params=dict(m["params"]),
        status=Status(m["status"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        next_attempt_at=m["next_attempt_at"],
        source_event_id=m["source_event_id"],
        event_at=m["event_at"],
        attempts=m["attempts"],
        max_attempts=m["max_attempts"],
        last_error=m["last_error"],
        suppress_reason=m["suppress_reason"],
        provider_message_id=m["provider_message_id"],
        sent_at=m["sent_at"],
        trace=dict(m["trace"]),
        time_zone=m["time_zone"],
        version=m["version"],
        sent_by=m["sent_by"],
        retried_by=m["retried_by"],
        about=m["about"],
        stale_at=m["stale_at"],
    )
