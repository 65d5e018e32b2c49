"""Item type use cases: the admins keep the list; anyone who reads the catalog may read it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from services.catalog.app.ports import CatalogUnitOfWork
from services.catalog.domain.item_types import (
    ITEM_TYPE_FIELDS,
    ITEM_TYPE_OUTPUT_ONLY,
    ItemType,
    UnknownItemType,
    parse_item_type_name,
)
from services.catalog.domain.update_mask import update_paths
from services.support.runtime.clock import Clock
from services.support.runtime.pagination import decode_token, fingerprint, page_size
from services.support.runtime.paging import Page, page_from_rows


@dataclass(frozen=True, slots=True)
class CreateItemType:
    code: str
    description: str
    not_for_loan: bool = False
    request_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class ListItemTypes:
    page_size: int = 0
    page_token: str = ""


@dataclass(frozen=True, slots=True)
class UpdateItemType:
    code: str
    description: str
    not_for_loan: bool
    mask: tuple[str, ...]
    etag: str = ""
    request_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class DeleteItemType:
    code: str
    etag: str = ""
    request_id: uuid.UUID | None = None


async def create_item_type(cmd: CreateItemType, *, uow: CatalogUnitOfWork, clock: Clock) -> ItemType:
    """Adds a type to the list (ALREADY_EXISTS for a code taken)."""
    kind = ItemType.create(cmd.code, cmd.description, not_for_loan=cmd.not_for_loan, now=clock.now())
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, "CreateItemType"):
            return await uow.item_types.get(parse_item_type_name(previous))
        await uow.item_types.add(kind)
        await uow.requests.remember(cmd.request_id, "CreateItemType", kind.name)
        await uow.commit()
    return kind


async def get_item_type(code: str, *, uow: CatalogUnitOfWork) -> ItemType:
    """One item type."""
    async with uow:
        return await uow.item_types.get(code)


async def list_item_types(query: ListItemTypes, *, uow: CatalogUnitOfWork) -> Page[ItemType]:
    """The item types, by code."""
    size = page_size(query.page_size)
    query_key = fingerprint("ListItemTypes")
    cursor = decode_token(query.page_token, query_key)
    async with uow:
        rows = await uow.item_types.list(after=str(cursor[0]) if cursor else None, limit=size)
        total = await uow.item_types.count()
    return page_from_rows(rows, limit=size, query=query_key, cursor_of=lambda kind: [kind.code], total_size=total)


async def update_item_type(cmd: UpdateItemType, *, uow: CatalogUnitOfWork, clock: Clock) -> ItemType:
    """Its description, or whether its copies may be lent (books' availability follows at once)."""
    sent = _Sent(cmd.description, cmd.not_for_loan)
    paths = update_paths(cmd.mask, sent=sent, writable=ITEM_TYPE_FIELDS, output_only=ITEM_TYPE_OUTPUT_ONLY)
    async with uow:
        if await uow.requests.recall(cmd.request_id, "UpdateItemType"):
            return await uow.item_types.get(cmd.code)
        kind = await uow.item_types.get(cmd.code, for_update=True)
        kind.check_etag(cmd.etag)
        kind.revise(description=cmd.description, not_for_loan=cmd.not_for_loan, paths=paths, now=clock.now())
        if kind.events:
            await uow.item_types.save(kind)
        await uow.requests.remember(cmd.request_id, "UpdateItemType", kind.name)
        await uow.commit()
    return kind


@dataclass(frozen=True, slots=True)
class _Sent:
    """What the client sent, for an update without a mask."""

    description: str
    not_for_loan: bool


async def delete_item_type(cmd: DeleteItemType, *, uow: CatalogUnitOfWork, clock: Clock) -> None:
    """Removes a type no copy has (FAILED_PRECONDITION, naming how many, while some do)."""
    async with uow:
        if await uow.requests.recall(cmd.request_id, "DeleteItemType"):
            return
        kind = await uow.item_types.get(cmd.code, for_update=True)
        kind.check_etag(cmd.etag)
        kind.delete(copies=await uow.item_types.copies_of(kind.code), now=clock.now())
        await uow.item_types.remove(kind)
        await uow.requests.remember(cmd.request_id, "DeleteItemType", kind.name)
        await uow.commit()


@dataclass(frozen=True, slots=True)
class RenameItemType:
    code: str
    new_code: str
    etag: str = ""
    request_id: uuid.UUID | None = None


async def rename_item_type(cmd: RenameItemType, *, uow: CatalogUnitOfWork, clock: Clock) -> ItemType:
    """Gives a type a new code (one seeded from old copies, "LARGE PRINT", re-spelt "LARGE_PRINT") and its copies
    with it, in one transaction: ALREADY_EXISTS when the new code is taken."""
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, "RenameItemType"):
            return await uow.item_types.get(parse_item_type_name(previous))
        kind = await uow.item_types.get(cmd.code, for_update=True)
        kind.check_etag(cmd.etag)
        now = clock.now()
        renamed = kind.renamed(cmd.new_code, now=now)
        # The new row first, then the copies, then the old row: the copies' foreign key holds at every step.
        await uow.item_types.add(renamed)
        await uow.item_types.move_copies(kind.code, renamed.code, now=now)
        await uow.item_types.remove(kind)
        await uow.requests.remember(cmd.request_id, "RenameItemType", renamed.name)
        await uow.commit()
    return renamed


async def require_known(
    codes: Iterable[str], uow: CatalogUnitOfWork, *, field: str = "copy.item_type"
) -> dict[str, bool]:
    """UNKNOWN_ITEM_TYPE for the first of `codes` (as copies keep them) that is not in the list; else each code
    with whether it is not for loan."""
    wanted = sorted(set(codes))
    known = await uow.item_types.known(wanted)
    for code in wanted:
        if code not in known:
            raise UnknownItemType(code, field)
    return known
