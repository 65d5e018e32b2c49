"""Catalog rules: what a valid book and copy are, and how a copy circulates. Pure: no I/O, no grpc, no sqlalchemy."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from services.support.runtime.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from services.support.runtime.versioning import Versioned

MAX_TITLE_LENGTH = 500
MAX_BARCODE_LENGTH = 64
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
BOOK_FIELDS = (
    "isbn", "title", "subtitle", "authors", "subjects", "publisher",
    "publication_year", "language", "description", "cover_url",
)  # fmt: skip
BOOK_OUTPUT_ONLY = ("name", "create_time", "update_time", "total_copies", "available_copies", "etag")
COPY_FIELDS = ("barcode", "branch", "shelf_location", "item_type", "status", "call_number")
COPY_OUTPUT_ONLY = ("name", "current_loan", "current_hold", "create_time", "update_time", "etag")


def normalize_isbn(raw: str) -> str:
    """ISBN-10 or ISBN-13 (hyphens and spaces allowed) -> ISBN-13 digits; ValueError if the check digit is wrong."""
    digits = re.sub(r"[\s-]", "", raw).upper()
    if re.fullmatch(r"\d{9}[\dX]", digits):
        if sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(digits)) % 11:
            raise ValueError("ISBN-10 check digit is wrong")
        body = "978" + digits[:9]
        return body + _isbn13_check_digit(body)
    if re.fullmatch(r"97[89]\d{10}", digits):
        if _isbn13_check_digit(digits[:12]) != digits[12]:
            raise ValueError("ISBN-13 check digit is wrong")
        return digits
    raise ValueError("must be 10 or 13 digits (ISBN-13 starts with 978 or 979)")


def _isbn13_check_digit(first_twelve: str) -> str:
    total = sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(first_twelve))
    return str((10 - total % 10) % 10)


def update_paths(
    mask: Iterable[str], *, sent: object, writable: tuple[str, ...], output_only: tuple[str, ...]
) -> tuple[str, ...]:
    """AIP-134 mask -> the fields to change: "*" is every writable field; no mask means every field sent."""
    paths = list(mask)
    if not paths:
        return tuple(f for f in writable if getattr(sent, f) not in ("", 0, (), None))
    if paths == ["*"]:
        return writable
    for path in paths:
        if path in output_only:
            raise InvalidArgument.field("update_mask", f"{path} is output only")
        if path not in writable:
            raise InvalidArgument.field("update_mask", f"unknown field {path!r}; writable: {', '.join(writable)}")
    return tuple(dict.fromkeys(paths))


@dataclass(frozen=True, slots=True)
class BookDetails:
    """The writable fields of a book, as a client sends them."""

    title: str
    isbn: str = ""
    subtitle: str = ""
    authors: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    publisher: str = ""
    publication_year: int = 0
    language: str = ""
    description: str = ""
    cover_url: str = ""

    def validated(self, *, current_year: int) -> BookDetails:
        """A cleaned copy (trimmed, ISBN-13), or InvalidArgument naming every bad field."""
        violations: list[FieldViolation] = []
        title = self.title.strip()
        if not title:
            violations.append(FieldViolation("book.title", "must not be empty"))
        elif len(title) > MAX_TITLE_LENGTH:
            violations.append(FieldViolation("book.title", f"must be at most {MAX_TITLE_LENGTH} characters"))
        isbn = ""
        if self.isbn.strip():
            try:
                isbn = normalize_isbn(self.isbn)
            except ValueError as error:
                violations.append(FieldViolation("book.isbn", str(error)))
        if self.publication_year < 0 or self.publication_year > current_year + 1:
            violations.append(FieldViolation("book.publication_year", f"must be between 1 and {current_year + 1}"))
        if self.language and not _LANGUAGE_TAG.match(self.language):
            violations.append(FieldViolation("book.language", "must be a BCP-47 tag such as 'en' or 'ru'"))
        if self.cover_url and not self.cover_url.startswith(("https://", "http://")):
            violations.append(FieldViolation("book.cover_url", "must be an http(s) URL"))
        if violations:
            raise InvalidArgument(violations)
        return dataclasses.replace(
            self,
            title=title,
            isbn=isbn,
            subtitle=self.subtitle.strip(),
            authors=_clean(self.authors),
            subjects=_clean(self.subjects),
            publisher=self.publisher.strip(),
            language=self.language.lower(),
            description=self.description.strip(),
            cover_url=self.cover_url.strip(),
        )


def _clean(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in values if v.strip()))


@dataclass(frozen=True, slots=True)
class BookCreated:
    event_id: uuid.UUID
    occurred_at: datetime
    book: Book


@dataclass(frozen=True, slots=True)
class BookUpdated:
    event_id: uuid.UUID
    occurred_at: datetime
    book: Book
    changed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BookDeleted:
    event_id: uuid.UUID
    occurred_at: datetime
    book_id: uuid.UUID
    isbn: str
    title: str


@dataclass(slots=True)
class Book(Versioned):
    """A bibliographic record. Copy counts are derived from copies by the repository, never stored."""

    id: uuid.UUID
    details: BookDetails
    created_at: datetime
    updated_at: datetime
    version: int = 1
    total_copies: int = 0
    available_copies: int = 0
    events: list[object] = field(default_factory=list)

    @property
    def name(self) -> str:
        return book_name(self.id)

    @classmethod
    def register(cls, details: BookDetails, *, now: datetime, book_id: uuid.UUID | None = None) -> Book:
        """A new record, validated, that announces itself with BookCreated."""
        book = cls(
            id=book_id or uuid.uuid4(),
            details=details.validated(current_year=now.year),
            created_at=now,
            updated_at=now,
        )
        book.events.append(BookCreated(event_id=uuid.uuid4(), occurred_at=now, book=book))
        return book

    def revise(self, changes: BookDetails, paths: tuple[str, ...], *, now: datetime) -> None:
        """Applies the named fields of `changes`; a change that changes nothing is not an update."""
        merged = dataclasses.replace(self.details, **{p: getattr(changes, p) for p in paths})
        details = merged.validated(current_year=now.year)
        changed = tuple(p for p in paths if getattr(details, p) != getattr(self.details, p))
        if not changed:
            return
        self.details, self.updated_at, self.version = details, now, self.version + 1
        self.events.append(BookUpdated(event_id=uuid.uuid4(), occurred_at=now, book=self, changed=changed))

    def remove(self, copy_statuses: Iterable[CopyStatus], *, now: datetime) -> None:
        """A book goes with its copies, unless one of them is out with a patron or waiting for one."""
        circulating = sum(1 for status in copy_statuses if status in CIRCULATING)
        if circulating:
            raise FailedPrecondition(
                f"{self.name} has {circulating} copies on loan or on the hold shelf",
                reason="COPIES_IN_CIRCULATION",
                metadata={"book": self.name, "circulating_copies": str(circulating)},
            )
        self.events.append(BookDeleted(uuid.uuid4(), now, self.id, self.details.isbn, self.details.title))


class CopyStatus(StrEnum):
    AVAILABLE = "AVAILABLE"
    ON_LOAN = "ON_LOAN"
    ON_HOLD_SHELF = "ON_HOLD_SHELF"
    IN_TRANSIT = "IN_TRANSIT"
    LOST = "LOST"
    DAMAGED = "DAMAGED"
    WITHDRAWN = "WITHDRAWN"


CIRCULATING = frozenset({CopyStatus.ON_LOAN, CopyStatus.ON_HOLD_SHELF})
"""Statuses only circulation (the loans service) moves a copy into and out of."""


def book_name(book_id: uuid.UUID) -> str:
    return f"books/{book_id}"


def copy_name(book_id: uuid.UUID, copy_id: uuid.UUID) -> str:
    return f"books/{book_id}/copies/{copy_id}"


def parse_book_name(name: str, *, field: str = "name") -> uuid.UUID:
    """books/{uuid} -> uuid; InvalidArgument when malformed."""
    prefix, _, raw = name.partition("/")
    if prefix != "books" or not raw:
        raise InvalidArgument.field(field, "must look like books/{book}")
    return _uuid(raw, field, "books/{book}")


def parse_copy_name(name: str, *, field: str = "name") -> tuple[uuid.UUID, uuid.UUID]:
    """books/{uuid}/copies/{uuid} -> (book id, copy id); InvalidArgument when malformed."""
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != "books" or parts[2] != "copies":
        raise InvalidArgument.field(field, "must look like books/{book}/copies/{copy}")
    shape = "books/{book}/copies/{copy}"
    return _uuid(parts[1], field, shape), _uuid(parts[3], field, shape)


def parse_reference(value: str, collection: str, *, field: str, required: bool = True) -> str:
    """A peer's resource name such as loans/{loan}; checked for shape only (the peer owns it)."""
    if not value and not required:
        return ""
    if not re.fullmatch(rf"{collection}/[A-Za-z0-9_-]{{1,64}}", value):
        raise InvalidArgument.field(field, f"must look like {collection}/{{id}}")
    return value


def _uuid(raw: str, field: str, shape: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise InvalidArgument.field(field, f"must look like {shape} with UUIDs") from None


class BookNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(name, f"{name} not found")


@dataclass(frozen=True, slots=True)
class BooksImported:
    event_id: uuid.UUID
    occurred_at: datetime
    created: int
    updated: int
    failed: int


@dataclass(slots=True)
class ImportBatch:
    """One bulk import; it exists to announce its outcome (BooksImported) with the rows it wrote."""

    events: list[object] = field(default_factory=list)

    @classmethod
    def finished(cls, *, created: int, updated: int, now: datetime) -> ImportBatch:
        return cls(events=[BooksImported(uuid.uuid4(), now, created, updated, failed=0)])
