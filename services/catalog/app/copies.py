"""Copy use cases of the cataloguers: adding, describing, finding and removing the physical items."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from services.catalog.app import queries
from services.catalog.app.item_types import require_known
from services.catalog.app.ports import CatalogUnitOfWork
from services.catalog.domain.books import BookNotFound
from services.catalog.domain.copies import COPY, COPY_FIELDS, COPY_OUTPUT_ONLY, Copy
from services.catalog.domain.copy_values import CopyDetails, CopyStatus
from services.catalog.domain.update_mask import update_paths
from services.support.runtime.branches import ANY_BRANCH, LibraryBranches
from services.support.runtime.clock import Clock
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.pagination import decode_token, fingerprint, page_size
from services.support.runtime.paging import Page, page_from_rows


@dataclass(frozen=True, slots=True)
class CreateCopy:
    book_id: uuid.UUID
    details: CopyDetails
    status: CopyStatus | None = None
    request_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class GetCopy:
    book_id: uuid.UUID
    copy_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class LookupCopy:
    barcode: str


@dataclass(frozen=True, slots=True)
class ListCopies:
    book_id: uuid.UUID | None
    """None: the copies of every book."""
    page_size: int = 0
    page_token: str = ""
    filter: str = ""


@dataclass(frozen=True, slots=True)
class UpdateCopy:
    book_id: uuid.UUID
    copy_id: uuid.UUID
    changes: CopyDetails
    status: CopyStatus | None
    mask: tuple[str, ...]
    etag: str = ""
    request_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class DeleteCopy:
    book_id: uuid.UUID
    copy_id: uuid.UUID
    etag: str = ""
    request_id: uuid.UUID | None = None


async def create_copy(
    cmd: CreateCopy, *, uow: CatalogUnitOfWork, clock: Clock, branches: LibraryBranches = ANY_BRANCH
) -> Copy:
    """Adds a copy to an existing book; AVAILABLE unless told otherwise. Its branch is one of the library's
    `branches` when it lists them: the copy is sent home there, where a desk must be able to receive it."""
    details = at_branch(cmd.details, branches)
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, "CreateCopy"):
            return await uow.copies.get(*COPY.parse(previous))
        if not await uow.copies.book_exists(cmd.book_id):
            raise BookNotFound(cmd.book_id)
        copy = Copy.register(cmd.book_id, details, now=clock.now(), status=cmd.status or CopyStatus.AVAILABLE)
        copy.not_for_loan = (await require_known([copy.details.item_type], uow))[copy.details.item_type]
        await uow.copies.add(copy)
        await uow.requests.remember(cmd.request_id, "CreateCopy", copy.name)
        await uow.commit()
    return copy


async def get_copy(query: GetCopy, *, uow: CatalogUnitOfWork) -> Copy:
    """One copy."""
    async with uow:
        return await uow.copies.get(query.book_id, query.copy_id)


async def lookup_copy(query: LookupCopy, *, uow: CatalogUnitOfWork) -> Copy:
    """The copy with this barcode (what a scanner at the desk reads)."""
    if not query.barcode.strip():
        raise InvalidArgument.field("barcode", "must not be empty")
    async with uow:
        return await uow.copies.by_barcode(query.barcode.strip())


async def list_copies(query: ListCopies, *, uow: CatalogUnitOfWork) -> Page[Copy]:
    """Copies of one book (or of all books), by barcode."""
    conditions = queries.parse_filter(query.filter, queries.COPY_FILTER_FIELDS)
    size = page_size(query.page_size)
    query_key = fingerprint("ListCopies", str(query.book_id), conditions)
    cursor = decode_token(query.page_token, query_key)
    listed_before, total = _carried(cursor)
    async with uow:
        if query.book_id is not None and not await uow.copies.book_exists(query.book_id):
            raise BookNotFound(query.book_id)
        after = str(cursor[0]) if cursor else None
        rows = await uow.copies.list(book_id=query.book_id, conditions=conditions, after=after, limit=size)
        if total is None:
            total = await _count(query.book_id, conditions, cursor, rows, size, uow)
    listed = None if listed_before is None else listed_before + min(len(rows), size)
    total = _estimate(total, listed, more=len(rows) > size)
    return page_from_rows(
        rows,
        limit=size,
        query=query_key,
        cursor_of=lambda copy: [copy.details.barcode, total, listed],
        total_size=total,
    )


def _carried(cursor: list[Any] | None) -> tuple[int | None, int | None]:
    """What a page token carries besides its barcode: the copies the pages before listed, and the listing's
    total_size (None for either a token does not carry as a count: one of an older build, or forged; tokens
    are not signed, but a forged count misleads only its forger, within int32). A first page listed none."""
    if cursor is None:
        return 0, None
    total, listed = [*cursor[1:3], None, None][:2]
    return _int32(listed), _int32(total)


def _int32(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31 else None


async def _count(
    book_id: uuid.UUID | None,
    conditions: Sequence[queries.Condition],
    cursor: list[Any] | None,
    rows: Sequence[Copy],
    size: int,
    uow: CatalogUnitOfWork,
) -> int:
    """The listing's total_size, counted once, for its first page: the later pages carry it in their token (a
    count of all the matching copies with every page made walking a status, e.g. the loans reconciler's
    walk over the copies on loan, cost a scan of the whole table per hundred copies). A first page that
    is the only one is its own count."""
    if cursor is None and len(rows) <= size:
        return len(rows)
    return await uow.copies.count(book_id=book_id, conditions=conditions)


def _estimate(counted: int, listed: int | None, *, more: bool) -> int:
    """The total_size a page shows (AIP-158: an estimate, documented in the proto): the first page's count,
    never below what the walk has listed (copies added during it), and on the last page the copies the walk
    listed (added or removed since the count). So no page contradicts the walk, and a walk during which
    nothing changed shows the same exact count on every page. `listed` None: a walk of an older build's
    token, which repeats the count."""
    if listed is None:
        return counted
    return min(max(counted, listed + 1) if more else listed, 2**31 - 1)


async def update_copy(
    cmd: UpdateCopy, *, uow: CatalogUnitOfWork, clock: Clock, branches: LibraryBranches = ANY_BRANCH
) -> Copy:
    """Descriptive fields and the cataloguer's statuses (lost, damaged, withdrawn, ...). A new branch is one of
    the library's `branches` (as create_copy); a branch the update leaves alone is not checked again."""
    paths = update_paths(cmd.mask, sent=_sent(cmd), writable=COPY_FIELDS, output_only=COPY_OUTPUT_ONLY)
    changes = at_branch(cmd.changes, branches) if "branch" in paths else cmd.changes
    async with uow:
        if await uow.requests.recall(cmd.request_id, "UpdateCopy"):
            return await uow.copies.get(cmd.book_id, cmd.copy_id)
        copy = await uow.copies.get(cmd.book_id, cmd.copy_id, for_update=not cmd.etag)  # as update_book
        copy.check_etag(cmd.etag)
        item_type = copy.details.item_type
        copy.revise(changes, cmd.status, paths, now=clock.now())
        if copy.details.item_type != item_type:
            copy.not_for_loan = (await require_known([copy.details.item_type], uow))[copy.details.item_type]
        await save_copy(copy, uow)
        await uow.requests.remember(cmd.request_id, "UpdateCopy", copy.name)
        await uow.commit()
    return copy


def at_branch(details: CopyDetails, branches: LibraryBranches) -> CopyDetails:
    """The details with their branch as kept: trimmed, in the spelling of the library's list when it has one;
    INVALID_ARGUMENT on `copy.branch` when the list lacks it."""
    return dataclasses.replace(details, branch=branches.spelled(details.branch, field="copy.branch"))


def _sent(cmd: UpdateCopy) -> object:
    """What the client sent, for an update without a mask (fields left at their defaults count as not sent)."""
    return SimpleNamespace(**dataclasses.asdict(cmd.changes), status=cmd.status)


async def delete_copy(cmd: DeleteCopy, *, uow: CatalogUnitOfWork, clock: Clock) -> None:
    """Removes a copy that is not out on loan or on the hold shelf."""
    async with uow:
        if await uow.requests.recall(cmd.request_id, "DeleteCopy"):
            return
        # Locked like a check-out locks it, so a copy lent meanwhile is never deleted.
        copy = await uow.copies.get(cmd.book_id, cmd.copy_id, for_update=True)
        copy.check_etag(cmd.etag)
        copy.remove(now=clock.now())
        await uow.copies.remove(copy)
        await uow.requests.remember(cmd.request_id, "DeleteCopy", copy.name)
        await uow.commit()


async def save_copy(copy: Copy, uow: CatalogUnitOfWork) -> None:
    """Writes a changed copy, then completes its status events with the book's availability after the change."""
    if not copy.events:
        return
    copy.settle_availability(await uow.copies.save(copy))


async def save_settled_copy(copy: Copy, available_others: int, uow: CatalogUnitOfWork) -> None:
    """Completes a changed copy's status events first, from how many other copies of its book were AVAILABLE
    when it was read, then writes it (in a single-write block, with them)."""
    if not copy.events:
        return
    copy.settle_availability(available_others + copy.lendable_on_shelf)
    await uow.copies.save_settled(copy)
