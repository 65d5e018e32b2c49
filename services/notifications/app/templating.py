"""Templates: read them, edit one (refused unless it compiles and uses only what its kind offers), and
seed the built-in ones at start."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.notifications.app.ports import NotificationsUnitOfWork, TemplateRenderer
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.templates import Template, refuse, template_id
from services.support.runtime.clock import Clock
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.pagination import decode_token, fingerprint, page_size
from services.support.runtime.paging import Page, page_from_rows


@dataclass(frozen=True, slots=True)
class GetTemplate:
    kind: Kind
    channel: Channel
    locale: str


@dataclass(frozen=True, slots=True)
class ListTemplates:
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True, slots=True)
class UpdateTemplate:
    kind: Kind
    channel: Channel
    locale: str
    changes: dict[str, str]
    """The masked parts: subject_template, body_template, html_body_template."""
    etag: str = ""
    editor: str = ""
    """"users/{user}": who edits it (kept on the version it makes)."""


async def get_template(cmd: GetTemplate, *, uow: NotificationsUnitOfWork) -> Template:
    async with uow:
        return await uow.templates.get(template_id(cmd.kind, cmd.channel, cmd.locale))


async def list_templates(cmd: ListTemplates, *, uow: NotificationsUnitOfWork) -> Page[Template]:
    """By id; the token is the last id."""
    size = page_size(cmd.page_size)
    query = fingerprint("ListNotificationTemplates")
    cursor = decode_token(cmd.page_token, query)
    after = str(cursor[0]) if cursor else ""
    async with uow:
        everything = sorted((await uow.templates.current()).values(), key=lambda template: template.id)
    rows = [template for template in everything if template.id > after][: size + 1]
    return page_from_rows(rows, limit=size, query=query, cursor_of=lambda t: [t.id], total_size=len(everything))


async def update_template(
    cmd: UpdateTemplate, *, uow: NotificationsUnitOfWork, clock: Clock, renderer: TemplateRenderer
) -> Template:
    """A new version of the template, if it compiles and uses only the variables its kind offers; else
    INVALID_ARGUMENT naming the part and the line, and the stored version goes on being used."""
    if not cmd.changes:
        raise InvalidArgument.field(
            "update_mask", "name at least one of subject_template, body_template, html_body_template"
        )
    async with uow:
        current = await uow.templates.get(template_id(cmd.kind, cmd.channel, cmd.locale))
        current.check_etag(cmd.etag)
        updated = current.edited(cmd.changes, now=clock.now(), by=cmd.editor)
        refuse(await renderer.problems(updated))
        await uow.templates.save(updated)
        await uow.commit()
    return updated


async def seed_templates(builtin: Iterable[Template], *, uow: NotificationsUnitOfWork) -> int:
    """Store the built-in templates that are missing (a first start, or a kind added since)."""
    async with uow:
        added = await uow.templates.add_missing(builtin)
        await uow.commit()
    return added
