"""The notifications service's peers in memory: the catalog that names books, and a renderer whose stored
templates went bad."""

from __future__ import annotations

from collections.abc import Mapping

from services.notifications.app.ports import Rendered, RenderFailed
from services.notifications.data.rendering import JinjaRenderer
from services.notifications.domain.templates import Template


class FakeCatalog:
    def __init__(self, titles: Mapping[str, str] | None = None) -> None:
        self.titles = dict(titles or {})
        self.asked: list[str] = []

    async def book_title(self, book: str) -> str:
        self.asked.append(book)
        return self.titles.get(book, "")


class BrokenRenderer(JinjaRenderer):
    """Renders like the real one, but fails for the templates named (a stored template that went bad)."""

    def __init__(self, *failing: str) -> None:
        self.failing = set(failing)

    def render(self, template: Template, variables: Mapping[str, str]) -> Rendered:
        if template.id in self.failing and template.version > 1:
            raise RenderFailed(template.id)
        return super().render(template, variables)
