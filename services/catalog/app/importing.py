"""Bulk import of books from CSV rows streamed by a client.

All or nothing: every row is parsed and validated first, and every bad row is reported with its number;
when any row is bad, nothing is written. Otherwise the whole catalogue goes in one transaction (books,
their copies and their events), so an import is never half-applied, whatever fails half way. It is written
WRITE_CHUNK rows at a time, each chunk's events to the outbox with it, so the service holds one chunk's
books and copies at a time, not the whole file's (a 10,000-title import left ~27 MiB resident, in five
chunks ~12).
A row whose ISBN is already in the catalogue updates that book (the columns present in the header).
"""

from __future__ import annotations

import csv
import hashlib
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from services.catalog.app.ports import CatalogUnitOfWork
from services.catalog.domain.books import BOOK_FIELDS, Book, BookDetails, ImportBatch
from services.catalog.domain.copies import Copy
from services.catalog.domain.copy_values import DEFAULT_ITEM_TYPE, CopyDetails, CopyStatus
from services.catalog.domain.item_types import UnknownItemType
from services.support.runtime.branches import ANY_BRANCH, LibraryBranches
from services.support.runtime.clock import Clock
from services.support.runtime.errors import InvalidArgument

COLUMNS = (*BOOK_FIELDS, "copies")
LIST_SEPARATOR = ";"
MAX_COPIES_PER_ROW = 1000
MAX_REPORTED_ERRORS = 1000
MAX_IMPORT_ROWS = 20_000
MAX_IMPORT_COPIES = 50_000
"""One import is one transaction, held in memory until it commits: 2,000 rows of 1,000 copies each took the
catalog past 1.5 GB and the edge's five minutes (a copy is an object, a row and an event). These bounds keep
it to ~100 MB and seconds; the demo library (10,000 titles, ~27,000 copies) is one import."""
WRITE_CHUNK = 2000
_YEAR = re.compile(r"[0-9]{1,9}")
_TEXT_COLUMNS = ("isbn", "subtitle", "publisher", "language", "description", "cover_url")
_COPIES = re.compile(r"^\s*(?:(?P<count>\d+)|(?P<branches>[^:;]+:\d+(?:\s*;\s*[^:;]+:\d+)*))\s*$")


@dataclass(frozen=True, slots=True)
class ImportChunk:
    """One message of the stream: the header (first message only) and data rows."""

    header: str
    rows: Sequence[str]


@dataclass(frozen=True, slots=True)
class ImportBooks:
    chunks: AsyncIterator[ImportChunk]
    request_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    message: str


@dataclass(frozen=True, slots=True)
class ParsedRow:
    row: int
    details: BookDetails
    copies: tuple[tuple[str, int], ...]
    """(branch, count) pairs; branch "" when the row only gave a number."""


@dataclass(slots=True)
class ImportSummary:
    created: int = 0
    updated: int = 0
    failed: int = 0
    errors: list[RowError] = field(default_factory=list)


def parse_header(header: str) -> tuple[str, ...]:
    """Column names, checked: known, not repeated, and a title among them."""
    columns = tuple(name.strip().lower() for name in next(csv.reader([header]), []))
    if not columns or columns == ("",):
        raise InvalidArgument.field("header", "the first message must carry the CSV header")
    for name in columns:
        if name not in COLUMNS:
            raise InvalidArgument.field("header", f"unknown column {name!r}; known: {', '.join(COLUMNS)}")
    if len(set(columns)) != len(columns):
        raise InvalidArgument.field("header", "a column appears twice")
    if "title" not in columns:
        raise InvalidArgument.field("header", "a title column is required")
    return columns


def parse_row(
    columns: tuple[str, ...], number: int, text: str, *, current_year: int, branches: LibraryBranches = ANY_BRANCH
) -> ParsedRow | RowError:
    """One data row -> validated book details and copies (at branches of the library's list when it has one),
    or the reason it is refused."""
    values = next(csv.reader([text]), [])
    if len(values) != len(columns):
        return RowError(number, f"row {number}: expected {len(columns)} fields, found {len(values)}")
    cells = dict(zip(columns, values, strict=True))
    year = cells.get("publication_year", "").strip()
    if year and not _YEAR.fullmatch(year):  # isdigit() passed "²", which int() then refused: INTERNAL
        return RowError(number, f"row {number}: book.publication_year: {year!r} is not a year")
    copies = _copies(cells.get("copies", ""))
    if copies is None:
        return RowError(number, f"row {number}: copies: expected a number or BRANCH:N;BRANCH:N")
    details = BookDetails(
        title=cells["title"],
        **{k: v for k, v in cells.items() if k in _TEXT_COLUMNS},
        authors=tuple(cells.get("authors", "").split(LIST_SEPARATOR)),
        subjects=tuple(cells.get("subjects", "").split(LIST_SEPARATOR)),
        publication_year=int(year or 0),
    )
    try:
        at = tuple((branches.spelled(branch, field="copies"), count) for branch, count in copies)
        return ParsedRow(number, details.validated(current_year=current_year), at)
    except InvalidArgument as error:
        return RowError(number, f"row {number}: {error.message}")


def _copies(cell: str) -> tuple[tuple[str, int], ...] | None:
    if not cell.strip():
        return ()
    match = _COPIES.match(cell)
    if match is None:
        return None
    if match["count"]:
        pairs = [("", int(match["count"]))]
    else:
        pairs = [(b.strip(), int(n)) for b, n in (part.split(":") for part in match["branches"].split(LIST_SEPARATOR))]
    return tuple(pairs) if sum(n for _, n in pairs) <= MAX_COPIES_PER_ROW else None


@dataclass(frozen=True, slots=True)
class ReadImport:
    parsed: list[ParsedRow]
    errors: list[RowError]
    columns: tuple[str, ...]
    digest: str
    """What the import says, whatever its split into messages: a retry under its request_id says the same."""


async def read_stream(
    chunks: AsyncIterator[ImportChunk], *, current_year: int, branches: LibraryBranches = ANY_BRANCH
) -> ReadImport:
    """Every row of the stream, parsed; a repeated ISBN is an error on its later row."""
    columns: tuple[str, ...] = ()
    parsed: list[ParsedRow] = []
    errors: list[RowError] = []
    seen_isbns: dict[str, int] = {}
    number = copies = 0
    digest = hashlib.sha256()
    async for chunk in chunks:
        if not columns:
            columns = parse_header(chunk.header)
            digest.update(_framed(chunk.header))
        for text in chunk.rows:
            number += 1
            digest.update(_framed(text))
            if number > MAX_IMPORT_ROWS:
                raise _too_large("rows", f"at most {MAX_IMPORT_ROWS:,} rows")
            result = parse_row(columns, number, text, current_year=current_year, branches=branches)
            if isinstance(result, ParsedRow) and (isbn := result.details.isbn):
                if isbn in seen_isbns:
                    result = RowError(number, f"row {number}: book.isbn: {isbn} is already on row {seen_isbns[isbn]}")
                else:
                    seen_isbns[isbn] = number
            if isinstance(result, RowError):
                errors.append(result)
                continue
            copies += sum(count for _, count in result.copies)
            if copies > MAX_IMPORT_COPIES:
                raise _too_large("copies", f"at most {MAX_IMPORT_COPIES:,} copies (row {number} passes it)")
            parsed.append(result)
    if not columns:
        raise InvalidArgument.field("header", "the first message must carry the CSV header")
    return ReadImport(parsed, errors, columns, digest.hexdigest()[:32])


def _framed(text: str) -> bytes:
    data = text.encode()
    return len(data).to_bytes(4, "big") + data


def _too_large(field: str, limit: str) -> InvalidArgument:
    return InvalidArgument.field(field, f"an import takes {limit}: split the file and import the parts one by one")


async def import_books(
    cmd: ImportBooks, *, uow: CatalogUnitOfWork, clock: Clock, branches: LibraryBranches = ANY_BRANCH
) -> ImportSummary:
    """Validates every row (its copies' branches among the library's `branches` when it lists them); writes
    all of them in one transaction, or none when any row is bad."""
    now = clock.now()
    request_id = cmd.request_id
    read = await read_stream(cmd.chunks, current_year=now.year, branches=branches)
    parsed, errors = read.parsed, read.errors
    if errors:
        return ImportSummary(failed=len(errors), errors=errors[:MAX_REPORTED_ERRORS])
    updatable = tuple(c for c in read.columns if c in BOOK_FIELDS)
    async with uow:
        if previous := await uow.requests.recall(request_id, "ImportBooks"):
            return _recalled(previous, read.digest)
        with_copies = [row for row in parsed if row.copies]
        kinds = await uow.item_types.known([DEFAULT_ITEM_TYPE]) if with_copies else {}
        if with_copies and DEFAULT_ITEM_TYPE not in kinds:
            return _unknown_item_type(with_copies)
        reference = kinds.get(DEFAULT_ITEM_TYPE, False)
        created = 0
        for start in range(0, len(parsed), WRITE_CHUNK):
            chunk = parsed[start : start + WRITE_CHUNK]
            created += await _write_chunk(chunk, updatable, uow=uow, now=now, reference=reference)
            await uow.flush_events()  # the chunk's books, copies and events need not wait for the commit
        summary = ImportSummary(created=created, updated=len(parsed) - created)
        uow.books.record(ImportBatch.finished(created=summary.created, updated=summary.updated, now=now))
        made = f"imports/{summary.created}+{summary.updated}/{read.digest}"
        await uow.requests.remember(request_id, "ImportBooks", made)
        await uow.commit()
    return summary


def _unknown_item_type(rows: Sequence[ParsedRow]) -> ImportSummary:
    """Every row with copies, refused: an import's copies are of the default item type, which the list lacks."""
    unknown = UnknownItemType(DEFAULT_ITEM_TYPE, "copies")
    errors = [RowError(row.row, f"row {row.row}: {unknown.message}") for row in rows]
    return ImportSummary(failed=len(errors), errors=errors[:MAX_REPORTED_ERRORS])


def _recalled(previous: str, digest: str) -> ImportSummary:
    """The first import's summary for its retry; another import under the same request_id is refused (AIP-155).
    A record made before imports carried their digest ("imports/C+U") is taken as the same import."""
    counts, _, first_digest = previous.removeprefix("imports/").partition("/")
    if first_digest and first_digest != digest:
        raise InvalidArgument.field("request_id", "was already used for another import")
    done, revised = counts.split("+")
    return ImportSummary(created=int(done), updated=int(revised))


async def _write_chunk(
    rows: Sequence[ParsedRow], updatable: tuple[str, ...], *, uow: CatalogUnitOfWork, now: datetime, reference: bool
) -> int:
    """Writes these rows' books (new, or revised where the ISBN is known) and copies; how many books are new.
    The rows' ISBNs are unique in the whole import (read_stream), so each chunk looks up its own."""
    existing = await uow.books.by_isbns([r.details.isbn for r in rows if r.details.isbn])
    new_books: list[Book] = []
    new_copies: list[Copy] = []
    for row in rows:
        book = existing.get(row.details.isbn)
        if book is None:
            book = Book.register(row.details, now=now)
            new_books.append(book)
        elif book.revise(row.details, updatable, now=now):
            await uow.books.save(book)
        new_copies += _new_copies(book, row, now, reference=reference)
    if new_books:
        await uow.books.add_many(new_books)
    for start in range(0, len(new_copies), WRITE_CHUNK):  # up to MAX_COPIES_PER_ROW a row
        await uow.copies.add_many(new_copies[start : start + WRITE_CHUNK])
    return len(new_books)


def _new_copies(book: Book, row: ParsedRow, now: datetime, *, reference: bool) -> list[Copy]:
    """The row's copies, with generated barcodes; a new book's counts include them (its BookCreated says so):
    as reference copies when their item type is not for loan."""
    made = [
        Copy.register(
            book.id,
            CopyDetails(barcode=f"AT{uuid.uuid4().hex[:12].upper()}", branch=branch),
            now=now,
            status=CopyStatus.AVAILABLE,
        )
        for branch, count in row.copies
        for _ in range(count)
    ]
    book.total_copies += len(made)
    if reference:
        book.reference_copies += len(made)
    else:
        book.available_copies += len(made)
    return made
