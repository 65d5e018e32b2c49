"""Copy use cases: cataloguing copies, and the circulation operations the loans service calls over the mesh.

Circulation is atomic and idempotent: each operation locks the copy's row (`FOR UPDATE`), and takes a
transaction advisory lock on the loan or hold it serves, so a retried or concurrent call for the same loan
finds the first call's result instead of taking a second copy.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from types import SimpleNamespace

from services.catalog import queries
from services.catalog.domain import COPY_FIELDS, COPY_OUTPUT_ONLY, BookNotFound, CopyStatus, book_name, update_paths
from services.catalog.handlers import CatalogUnitOfWork
from services.catalog.inventory import Copy, CopyDetails
from services.support.runtime import pagination
from services.support.runtime.clock import Clock
from services.support.runtime.errors import FailedPrecondition, InvalidArgument


@dataclass(frozen=True, slots=True)
class CreateCopy:
    book_id: uuid.UUID
    details: CopyDetails
    status: CopyStatus | None = None
    request_id: uuid.UUID | None = None


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
class CopySelector:
    """Which copy: exactly one of a copy's ids, a barcode, or a book (any AVAILABLE copy of it)."""

    copy: tuple[uuid.UUID, uuid.UUID] | None = None
    barcode: str = ""
    book_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class CopiesPage:
    copies: list[Copy]
    next_page_token: str
    total_size: int


async def create_copy(cmd: CreateCopy, uow: CatalogUnitOfWork, clock: Clock) -> Copy:
    """Adds a copy to an existing book; AVAILABLE unless told otherwise."""
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, "CreateCopy"):
            _, _, copy_id = previous.rpartition("/")
            return await uow.copies.get(cmd.book_id, uuid.UUID(copy_id))
        if not await uow.copies.book_exists(cmd.book_id):
            raise BookNotFound(book_name(cmd.book_id))
        copy = Copy.register(cmd.book_id, cmd.details, now=clock.now(), status=cmd.status or CopyStatus.AVAILABLE)
        await uow.copies.add(copy)
        await uow.requests.remember(cmd.request_id, "CreateCopy", copy.name)
        await uow.commit()
    return copy


async def get_copy(book_id: uuid.UUID, copy_id: uuid.UUID, uow: CatalogUnitOfWork) -> Copy:
    async with uow:
        return await uow.copies.get(book_id, copy_id)


async def lookup_copy(barcode: str, uow: CatalogUnitOfWork) -> Copy:
    """The copy with this barcode (what a scanner at the desk reads)."""
    if not barcode.strip():
        raise InvalidArgument.field("barcode", "must not be empty")
    async with uow:
        return await uow.copies.by_barcode(barcode.strip())


async def list_copies(
    book_id: uuid.UUID | None, *, page_size: int, page_token: str, filter: str, uow: CatalogUnitOfWork
) -> CopiesPage:
    """Copies of one book (or of all books when book_id is None), by barcode."""
    conditions = queries.parse_filter(filter, queries.COPY_FILTER_FIELDS)
    size = pagination.page_size(page_size)
    fingerprint = pagination.fingerprint("ListCopies", str(book_id), conditions)
    cursor = pagination.decode_token(page_token, fingerprint)
    async with uow:
        if book_id is not None and not await uow.copies.book_exists(book_id):
            raise BookNotFound(book_name(book_id))
        after = str(cursor[0]) if cursor else None
        page = await uow.copies.list(book_id=book_id, conditions=conditions, after=after, limit=size)
    token = pagination.encode_token([page.copies[-1].details.barcode], fingerprint) if page.has_more else ""
    return CopiesPage(page.copies, token, page.total_size)


async def update_copy(cmd: UpdateCopy, uow: CatalogUnitOfWork, clock: Clock) -> Copy:
    """Descriptive fields and the cataloguer's statuses (lost, damaged, withdrawn, ...)."""
    paths = update_paths(cmd.mask, sent=_sent(cmd), writable=COPY_FIELDS, output_only=COPY_OUTPUT_ONLY)
    async with uow:
        if await uow.requests.recall(cmd.request_id, "UpdateCopy"):
            return await uow.copies.get(cmd.book_id, cmd.copy_id)
        copy = await uow.copies.get(cmd.book_id, cmd.copy_id, lock=True)
        copy.check_etag(cmd.etag)
        copy.revise(cmd.changes, cmd.status, paths, now=clock.now())
        await _save(copy, uow)
        await uow.requests.remember(cmd.request_id, "UpdateCopy", copy.name)
        await uow.commit()
    return copy


def _sent(cmd: UpdateCopy) -> object:
    """What the client sent, for an update without a mask (fields left at their defaults count as not sent)."""
    return SimpleNamespace(**dataclasses.asdict(cmd.changes), status=cmd.status)


async def delete_copy(
    book_id: uuid.UUID,
    copy_id: uuid.UUID,
    *,
    etag: str,
    request_id: uuid.UUID | None,
    uow: CatalogUnitOfWork,
    clock: Clock,
) -> None:
    """Removes a copy that is not out on loan or on the hold shelf."""
    async with uow:
        if await uow.requests.recall(request_id, "DeleteCopy"):
            return
        copy = await uow.copies.get(book_id, copy_id, lock=True)
        copy.check_etag(etag)
        copy.remove(now=clock.now())
        await uow.copies.remove(copy)
        await uow.requests.remember(request_id, "DeleteCopy", copy.name)
        await uow.commit()


async def check_out_copy(selector: CopySelector, *, loan: str, hold: str, uow: CatalogUnitOfWork, clock: Clock) -> Copy:
    """ON_LOAN for `loan`. The same loan again returns the copy it already has (whatever the selector)."""
    async with uow:
        await uow.lock(loan)
        if (already := await uow.copies.holding(loan=loan)) is not None:
            return already
        copy = await _select(selector, hold, uow)
        copy.check_out(loan, hold=hold, now=clock.now())
        await _save(copy, uow)
        await uow.commit()
    return copy


async def _select(selector: CopySelector, hold: str, uow: CatalogUnitOfWork) -> Copy:
    if selector.copy is not None:
        return await uow.copies.get(*selector.copy, lock=True)
    if selector.barcode:
        return await uow.copies.by_barcode(selector.barcode, lock=True)
    assert selector.book_id is not None
    if hold and (held := await uow.copies.holding(hold=hold)) is not None and held.book_id == selector.book_id:
        return held
    if (copy := await uow.copies.first_available(selector.book_id)) is not None:
        return copy
    raise await _none_available(selector.book_id, uow)


async def check_in_copy(
    book_id: uuid.UUID, copy_id: uuid.UUID, *, loan: str, hold: str, uow: CatalogUnitOfWork, clock: Clock
) -> Copy:
    """Ends `loan` on the copy: AVAILABLE, or onto the hold shelf for `hold`. Repeating it changes nothing."""
    async with uow:
        await uow.lock(loan)
        copy = await uow.copies.get(book_id, copy_id, lock=True)
        copy.check_in(loan, hold=hold, now=clock.now())
        await _save(copy, uow)
        await uow.commit()
    return copy


async def reserve_copy(book_id: uuid.UUID, *, hold: str, branch: str, uow: CatalogUnitOfWork, clock: Clock) -> Copy:
    """An AVAILABLE copy (at `branch` when possible) onto the hold shelf; the same hold again gets the same copy."""
    async with uow:
        await uow.lock(hold)
        if (already := await uow.copies.holding(hold=hold)) is not None:
            return already
        copy = await uow.copies.first_available(book_id, prefer_branch=branch)
        if copy is None:
            raise await _none_available(book_id, uow)
        copy.reserve(hold, now=clock.now())
        await _save(copy, uow)
        await uow.commit()
    return copy


async def release_copy(
    book_id: uuid.UUID, copy_id: uuid.UUID, *, hold: str, uow: CatalogUnitOfWork, clock: Clock
) -> Copy:
    """Takes the copy off the hold shelf; releasing twice changes nothing."""
    async with uow:
        await uow.lock(hold)
        copy = await uow.copies.get(book_id, copy_id, lock=True)
        copy.release(hold, now=clock.now())
        await _save(copy, uow)
        await uow.commit()
    return copy


async def _save(copy: Copy, uow: CatalogUnitOfWork) -> None:
    """Writes the copy, then completes its status events with the book's availability after the change."""
    if not copy.events:
        return
    await uow.copies.save(copy)
    copy.settle_availability(await uow.copies.available_count(copy.book_id))


async def _none_available(book_id: uuid.UUID, uow: CatalogUnitOfWork) -> Exception:
    if not await uow.copies.book_exists(book_id):
        return BookNotFound(book_name(book_id))
    return FailedPrecondition(
        f"no copy of {book_name(book_id)} is available",
        reason="NO_COPY_AVAILABLE",
        metadata={"book": book_name(book_id)},
    )
