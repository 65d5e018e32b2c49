"""A book: the bibliographic record, its validation and the events it records."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from services.catalog.domain.copy_values import CIRCULATING, CopyStatus
from services.catalog.domain.isbn import normalize_isbn
from services.support.runtime.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from services.support.runtime.events import DomainEvent
from services.support.runtime.names import NamePattern
from services.support.runtime.text import ONE_LINE_MESSAGE, is_one_line
from services.support.runtime.versioning import Versioned

BOOK = NamePattern("books/{book}")
MAX_TITLE_LENGTH = 500
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
BOOK_FIELDS = (
    "isbn", "title", "subtitle", "authors", "subjects", "publisher",
    "publication_year", "language", "description", "cover_url",
)  # fmt: skip
BOOK_OUTPUT_ONLY = (
    "name",
    "create_time",
    "update_time",
    "total_copies",
    "available_copies",
    "reference_copies",
    "etag",
)


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

    def validated(self, *, current_year: int, given: Iterable[str] | None = None) -> BookDetails:
        """A cleaned copy (trimmed, ISBN-13), or InvalidArgument naming every bad field. A rule newer than the
        data (a title on one line) holds for the fields `given` (None: all): a book stored before it keeps its
        title until someone edits that."""
        violations: list[FieldViolation] = []
        title = self.title.strip()
        if not title:
            violations.append(FieldViolation("book.title", "must not be empty"))
        elif len(title) > MAX_TITLE_LENGTH:
            violations.append(FieldViolation("book.title", f"must be at most {MAX_TITLE_LENGTH} characters"))
        elif (given is None or "title" in given) and not is_one_line(title):
            violations.append(FieldViolation("book.title", ONE_LINE_MESSAGE))
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
        if self.cover_url.strip() and not _is_web_address(self.cover_url.strip()):
            violations.append(FieldViolation("book.cover_url", "must be an http(s) URL with a host, without spaces"))
        violations += self._past_their_limits()
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

    def _past_their_limits(self) -> list[FieldViolation]:
        """The API's limits, here too: an import's rows reach the catalog without the edge's check, and a book
        imported with 300 authors could then not be sent back in an update."""
        found = [
            FieldViolation(f"book.{name}", f"must be at most {limit} characters")
            for name, limit in TEXT_LIMITS.items()
            if len(getattr(self, name).strip()) > limit
        ]
        for name, (items, length) in LIST_LIMITS.items():
            values = _clean(getattr(self, name))
            if len(values) > items:
                found.append(FieldViolation(f"book.{name}", f"must hold at most {items} items"))
            elif any(len(value) > length for value in values):
                found.append(FieldViolation(f"book.{name}", f"each must be at most {length} characters"))
        return found


def title_order(title: str) -> tuple[str, str]:
    """Where a title goes in an A-Z list: by its letters whatever their case, yo filed with ye (as Russian dictionaries
    and library catalogues file them), then by the title itself so that order is total. The catalog's SQL
    (function catalog_title_key, migration 0008) sorts the same way."""
    return title.lower().replace("\u0451", "\u0435"), title


def _is_web_address(url: str) -> bool:
    """http(s), in any case, with a host and no spaces: "https://" alone and " https://x" were taken or not by
    where the space was, and "HTTPS://x" was refused."""
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in url)


TEXT_LIMITS = {"subtitle": 500, "publisher": 200, "description": 5000, "cover_url": 2048}
LIST_LIMITS = {"authors": (50, 200), "subjects": (50, 100)}
"""The Book message's declared limits (a test keeps them equal): items, and characters each."""


def _clean(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in values if v.strip()))


@dataclass(frozen=True, kw_only=True)
class BookCreated(DomainEvent):
    book: Book


@dataclass(frozen=True, kw_only=True)
class BookUpdated(DomainEvent):
    book: Book
    changed: tuple[str, ...]
    previous: BookDetails | None = None
    """The details before the change: the audit trail says what the changed fields were."""


@dataclass(frozen=True, kw_only=True)
class BookDeleted(DomainEvent):
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
    """AVAILABLE copies that may be lent (not of a not-for-loan item type)."""
    events: list[DomainEvent] = field(default_factory=list)
    reference_copies: int = 0
    """AVAILABLE copies of not-for-loan item types: on the shelf, read in the library only."""

    @property
    def name(self) -> str:
        return BOOK.format(self.id)

    @classmethod
    def register(cls, details: BookDetails, *, now: datetime, book_id: uuid.UUID | None = None) -> Book:
        """A new record, validated, that announces itself with BookCreated."""
        book = cls(
            id=book_id or uuid.uuid4(),
            details=details.validated(current_year=now.year),
            created_at=now,
            updated_at=now,
        )
        book.events.append(BookCreated(occurred_at=now, book=book))
        return book

    def revise(self, changes: BookDetails, paths: tuple[str, ...], *, now: datetime) -> bool:
        """Applies the named fields of `changes`; False (and no new version) when that changes nothing."""
        merged = dataclasses.replace(self.details, **{p: getattr(changes, p) for p in paths})
        details = merged.validated(current_year=now.year, given=paths)
        changed = tuple(p for p in paths if getattr(details, p) != getattr(self.details, p))
        if not changed:
            return False
        previous = self.details
        self.details, self.updated_at, self.version = details, now, self.version + 1
        self.events.append(BookUpdated(occurred_at=now, book=self, changed=changed, previous=previous))
        return True

    def remove(self, copy_statuses: Iterable[CopyStatus], *, now: datetime) -> None:
        """A book goes with its copies, unless one of them is out with a patron or waiting for one."""
        circulating = sum(1 for status in copy_statuses if status in CIRCULATING)
        if circulating:
            raise FailedPrecondition(
                f"{self.name} has {circulating} copies on loan, on the hold shelf or in transit for a hold",
                reason="COPIES_IN_CIRCULATION",
                metadata={"book": self.name, "circulating_copies": str(circulating)},
            )
        self.events.append(
            BookDeleted(occurred_at=now, book_id=self.id, isbn=self.details.isbn, title=self.details.title)
        )


class BookNotFound(NotFound):
    def __init__(self, book_id: uuid.UUID) -> None:
        name = BOOK.format(book_id)
        super().__init__(name, f"{name} not found")


@dataclass(frozen=True, kw_only=True)
class BooksImported(DomainEvent):
    created: int
    updated: int
    failed: int = 0


@dataclass(slots=True)
class ImportBatch:
    """One bulk import; it exists to announce its outcome (BooksImported) with the rows it wrote."""

    events: list[DomainEvent] = field(default_factory=list)

    @classmethod
    def finished(cls, *, created: int, updated: int, now: datetime) -> ImportBatch:
        return cls(events=[BooksImported(occurred_at=now, created=created, updated=updated)])
