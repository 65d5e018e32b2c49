"""The notifications service's smaller repositories in memory (recipients, templates, schedule step keys,
reminders, the request log), each over its table of one fake unit of work (fakes.FakeNotificationsUnitOfWork)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime

from services.notifications.data.template_seeds import BUILTIN
from services.notifications.domain.occurrences import Reminder
from services.notifications.domain.recipients import Recipient
from services.notifications.domain.templates import Template, TemplateNotFound
from services.support.runtime.conflicts import CONCURRENT_UPDATE
from services.support.runtime.errors import Conflict


class FakeRecipients:
    def __init__(self, rows: dict[uuid.UUID, Recipient]) -> None:
        self._rows = rows

    async def get_many(self, user_ids: Iterable[uuid.UUID], *, lock: bool = False) -> dict[uuid.UUID, Recipient]:
        return {user_id: self._rows[user_id] for user_id in user_ids if user_id in self._rows}

    async def save(self, recipient: Recipient) -> None:
        self._rows[recipient.user_id] = recipient

    async def add(self, recipient: Recipient) -> bool:
        if recipient.user_id in self._rows:
            return False
        self._rows[recipient.user_id] = recipient
        return True

    async def count(self) -> int:
        return len(self._rows)


class FakeTemplates:
    def __init__(self, rows: dict[str, Template], *, seen: list[Template] | None = None) -> None:
        self._rows = rows
        self._seen = [] if seen is None else seen

    async def current(self) -> Mapping[str, Template]:
        return dict(self._rows)

    async def get(self, template_id: str) -> Template:
        if template_id not in self._rows:
            raise TemplateNotFound(f"notificationTemplates/{template_id}")
        return self._rows[template_id]

    async def save(self, template: Template) -> None:
        if self._rows[template.id].version != template.version - 1:
            raise Conflict("changed concurrently", reason=CONCURRENT_UPDATE)
        self._rows[template.id] = template
        self._seen.append(template)

    async def add_missing(self, templates: Iterable[Template]) -> int:
        missing = [t for t in templates if t.id not in self._rows]
        self._rows.update({t.id: t for t in missing})
        return len(missing)

    def builtin(self, template_id: str) -> Template | None:
        return BUILTIN.get(template_id)


class FakeStepKeys:
    def __init__(self, keys: set[str]) -> None:
        self._keys = keys

    async def claim(self, keys: Iterable[str]) -> set[str]:
        fresh = set(keys) - self._keys
        self._keys |= fresh
        return fresh


class FakeReminders:
    def __init__(self, rows: dict[tuple[str, str], Reminder]) -> None:
        self._rows = rows

    async def schedule(self, reminders: Iterable[Reminder]) -> None:
        for reminder in reminders:
            self._rows[(reminder.key, reminder.occurrence.kind.value)] = reminder

    async def cancel(self, keys: Iterable[str]) -> None:
        for key in [k for k in self._rows if k[0] in set(keys)]:
            del self._rows[key]

    async def gather(self, digests: Iterable[Reminder]) -> None:
        for digest in digests:
            row = (digest.key, digest.occurrence.kind.value)
            if (stored := self._rows.get(row)) is not None:
                gathered = (*stored.occurrence.gathered, *digest.occurrence.gathered)
                digest = replace(stored, occurrence=replace(stored.occurrence, gathered=gathered))
            self._rows[row] = digest

    async def cancel_under(self, prefix: str) -> None:
        for key in [k for k in self._rows if k[0].startswith(prefix)]:
            del self._rows[key]

    async def take_due(self, now: datetime, *, limit: int) -> list[Reminder]:
        due = sorted((r for r in self._rows.values() if r.due_at <= now), key=lambda r: r.due_at)[:limit]
        for reminder in due:
            del self._rows[(reminder.key, reminder.occurrence.kind.value)]
        return due


class FakeRequestLog:
    def __init__(self, rows: dict[uuid.UUID, tuple[str, str]]) -> None:
        self._rows = rows

    async def recall(self, request_id: uuid.UUID | None, operation: str) -> str | None:
        found = self._rows.get(request_id) if request_id else None
        return found[1] if found else None

    async def remember(self, request_id: uuid.UUID | None, operation: str, resource: str) -> None:
        if request_id:
            self._rows[request_id] = (operation, resource)
