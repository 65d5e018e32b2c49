"""The notifications service's peers in memory: the catalog that names books, the users service that has the
accounts, and a renderer whose stored templates went bad."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping

from services.notifications.app.ports import Rendered, RenderFailed
from services.notifications.data.rendering import JinjaRenderer
from services.notifications.domain.recipients import Recipient
from services.notifications.domain.templates import Template
from services.support.runtime.errors import DependencyUnavailable


class FakeCatalog:
    def __init__(self, titles: Mapping[str, str] | None = None) -> None:
        self.titles = dict(titles or {})
        self.asked: list[str] = []

    async def book_title(self, book: str) -> str:
        self.asked.append(book)
        return self.titles.get(book, "")


class FakeUsers:
    """The users service: the accounts it has (None for the rest); away while `down`."""

    def __init__(self, *accounts: Recipient) -> None:
        self.accounts = {account.user_id: account for account in accounts}
        self.asked: list[set[uuid.UUID]] = []
        self.down = False

    async def look_up(self, user_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Recipient | None]:
        self.asked.append(set(user_ids))
        if self.down:
            raise DependencyUnavailable("the users service is unavailable", reason="USERS_UNAVAILABLE")
        return {user_id: self.accounts.get(user_id) for user_id in user_ids}


class BrokenRenderer(JinjaRenderer):
    """Renders like the real one, but fails for the templates named (a stored template that went bad)."""

    def __init__(self, *failing: str) -> None:
        self.failing = set(failing)

    def render(self, template: Template, variables: Mapping[str, str]) -> Rendered:
        if template.id in self.failing and template.version > 1:
            raise RenderFailed(template.id)
        return super().render(template, variables)
