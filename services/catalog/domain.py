"""Catalog rules: what a valid bibliographic record is. Pure: no I/O, no grpc, no sqlalchemy."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from services.runtime.errors import FieldViolation, InvalidArgument, NotFound

MAX_TITLE_LENGTH = 500
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


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
        return BookDetails(
            title=title,
            isbn=isbn,
            subtitle=self.subtitle.strip(),
            authors=_clean(self.authors),
            subjects=_clean(self.subjects),
            publisher=self.publisher.strip(),
            publication_year=self.publication_year,
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


@dataclass(slots=True)
class Book:
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

    @property
    def etag(self) -> str:
        return f'W/"{self.version}"'

    @classmethod
    def register(
        cls,
        details: BookDetails,
        *,
        now: datetime,
        book_id: uuid.UUID | None = None,
        event_id: uuid.UUID | None = None,
    ) -> Book:
        """A new record, validated, that announces itself with BookCreated."""
        book = cls(
            id=book_id or uuid.uuid4(),
            details=details.validated(current_year=now.year),
            created_at=now,
            updated_at=now,
        )
        book.events.append(BookCreated(event_id=event_id or uuid.uuid4(), occurred_at=now, book=book))
        return book


def book_name(book_id: uuid.UUID) -> str:
    return f"books/{book_id}"


def parse_book_name(name: str, *, field: str = "name") -> uuid.UUID:
    """books/{uuid} -> uuid; InvalidArgument when malformed."""
    prefix, _, raw = name.partition("/")
    if prefix != "books" or not raw:
        raise InvalidArgument.field(field, "must look like books/{book}")
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise InvalidArgument.field(field, "must look like books/{book} with a UUID") from None


class BookNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(name, f"{name} not found")
