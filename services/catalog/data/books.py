"""Books in Postgres. Copy counts are derived from the copies in the same statement, never stored."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from services.catalog.data.item_types import lendable
from services.catalog.data.tables import books, copies
from services.catalog.domain.books import Book, BookDetails, BookNotFound, ImportBatch
from services.catalog.domain.copy_values import CopyStatus
from services.support.runtime.driver import INTEGRITY_ERRORS, DriverStatement, violated_constraint
from services.support.runtime.errors import AlreadyExists, Conflict
from services.support.runtime.repository import TrackingRepository

BOOK_COLUMNS = [c for c in books.c if c.name not in ("search_vector", "search_text")]


def _copy_count(*conditions: sa.ColumnElement[bool]) -> sa.ScalarSelect[int]:
    return sa.select(sa.func.count()).where(copies.c.book_id == books.c.id, *conditions).scalar_subquery()


# Built once: constructing a statement costs more CPU than running a primary-key lookup.
BOOKS_WITH_COUNTS = sa.select(
    *BOOK_COLUMNS,
    _copy_count(copies.c.status != CopyStatus.WITHDRAWN.value).label("total_copies"),
    _copy_count(copies.c.status == CopyStatus.AVAILABLE.value, lendable(copies.c.item_type)).label("available_copies"),
    _copy_count(copies.c.status == CopyStatus.AVAILABLE.value, ~lendable(copies.c.item_type)).label("reference_copies"),
)
_by_id = BOOKS_WITH_COUNTS.where(books.c.id == sa.bindparam("book_id"))
_BY_ID = DriverStatement(_by_id, read=True)
_BY_ID_FOR_UPDATE = DriverStatement(_by_id.with_for_update(of=books))
# The loans reconciler's question, for up to a hundred books with a queue: one statement (the count per book
# is an index look-up on copies.book_id).
_AVAILABILITY = DriverStatement(
    sa.select(
        books.c.id,
        _copy_count(copies.c.status == CopyStatus.AVAILABLE.value, lendable(copies.c.item_type)).label("available"),
    ).where(books.c.id == sa.any_(sa.bindparam("ids", type_=ARRAY(UUID(as_uuid=True))))),
    read=True,
)
_AS_CIRCULATION_SEES_IT = sa.case(
    (sa.and_(copies.c.status == CopyStatus.IN_TRANSIT.value, copies.c.current_hold.is_not(None)), "ON_HOLD_SHELF"),
    else_=copies.c.status,
)
"""A copy in transit for a hold is set aside for it as one on the hold shelf is (a cataloguer's transit is not)."""
_COPY_STATUSES_FOR_UPDATE = (
    sa.select(_AS_CIRCULATION_SEES_IT).where(copies.c.book_id == sa.bindparam("book_id")).with_for_update()
)


def to_book(m: Mapping[Any, Any]) -> Book:
    """A book from a row of BOOKS_WITH_COUNTS (SQLAlchemy's `row._mapping`, or the driver's record)."""
    details = BookDetails(
        title=m["title"],
        isbn=m["isbn"] or "",
        subtitle=m["subtitle"],
        authors=tuple(m["authors"]),
        subjects=tuple(m["subjects"]),
        publisher=m["publisher"],
        publication_year=m["publication_year"] or 0,
        language=m["language"],
        description=m["description"],
        cover_url=m["cover_url"],
    )
    return Book(
        id=m["id"],
        details=details,
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        version=m["version"],
        total_copies=m["total_copies"],
        available_copies=m["available_copies"],
        reference_copies=m["reference_copies"],
    )


def _fields(book: Book) -> dict[str, object]:
    """The stored columns a revision may change (the version is the unit of work's business)."""
    d = book.details
    return {
        "isbn": d.isbn or None,
        "title": d.title,
        "subtitle": d.subtitle,
        "authors": list(d.authors),
        "subjects": list(d.subjects),
        "publisher": d.publisher,
        "publication_year": d.publication_year or None,
        "language": d.language,
        "description": d.description,
        "cover_url": d.cover_url,
        "updated_at": book.updated_at,
    }


def _isbn_taken(book: Book) -> AlreadyExists:
    isbn = book.details.isbn
    return AlreadyExists(
        f"a book with ISBN {isbn} already exists",
        reason="ISBN_TAKEN",
        metadata={"isbn": isbn, "field": "book.isbn"},
    )


class SqlBookRepository(TrackingRepository):
    async def add(self, book: Book) -> None:
        """Inserts within the unit of work's transaction; visible to others only after its commit."""
        await self.add_many([book])

    async def add_many(self, new_books: Sequence[Book]) -> None:
        values = [{**_fields(b), "id": b.id, "created_at": b.created_at, "version": b.version} for b in new_books]
        try:
            async with self.session.begin_nested():
                await self.session.execute(books.insert(), values)
        except INTEGRITY_ERRORS as error:
            if violated_constraint(error) != "books_isbn_key":
                raise
            if len(new_books) == 1:
                raise _isbn_taken(new_books[0]) from None
            # An import's new book whose ISBN someone catalogued after the import looked its ISBNs up (it
            # answered INTERNAL): the whole import is a lost race, and its retry updates that book instead.
            raise Conflict(
                "a book with one of the import's ISBNs was catalogued meanwhile: import again",
                reason="ISBN_TAKEN_MEANWHILE",
            ) from None
        for book in new_books:
            self._track(book)

    async def get(self, book_id: uuid.UUID, *, for_update: bool = False) -> Book:
        """The book with its copy counts; `for_update` holds its row until the transaction ends."""
        found = await self._first(_BY_ID_FOR_UPDATE if for_update else _BY_ID, {"book_id": book_id})
        if found is None:
            raise BookNotFound(book_id)
        return self._track(to_book(found))

    async def availability(self, book_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """How many copies of each book are available for loan; a book not in the catalog is left out."""
        if not book_ids:
            return {}
        rows = await self._fetch(_AVAILABILITY, {"ids": list(book_ids)})
        return {row["id"]: int(row["available"]) for row in rows}

    async def by_isbns(self, isbns: Sequence[str]) -> dict[str, Book]:
        """Books with these ISBNs, locked (a bulk import updates them)."""
        if not isbns:
            return {}
        query = BOOKS_WITH_COUNTS.where(books.c.isbn.in_(list(isbns))).with_for_update(of=books)
        found = [to_book(row._mapping) for row in (await self.session.execute(query)).all()]
        return {b.details.isbn: self._track(b) for b in found}

    async def save(self, book: Book) -> None:
        """Writes a revision if the row still has the version it was read with (`revise` bumped it by one)."""
        try:
            async with self.session.begin_nested():
                await self._update_versioned(
                    books, row_id=book.id, version=book.version - 1, values=_fields(book), name=book.name
                )
        except INTEGRITY_ERRORS as error:
            if violated_constraint(error) == "books_isbn_key":
                raise _isbn_taken(book) from None
            raise

    async def remove(self, book: Book) -> None:
        """Deletes the book; its copies go with it (ON DELETE CASCADE)."""
        await self.session.execute(books.delete().where(books.c.id == book.id))

    async def copy_statuses(self, book_id: uuid.UUID) -> list[CopyStatus]:
        """Statuses of the book's copies, locked so no check-out slips in before a delete commits; a copy in
        transit for a hold is reported ON_HOLD_SHELF (set aside for a patron all the same)."""
        statuses = await self.session.scalars(_COPY_STATUSES_FOR_UPDATE, {"book_id": book_id})
        return [CopyStatus(s) for s in statuses.all()]

    def record(self, batch: ImportBatch) -> None:
        """The batch's events go to the outbox with this transaction's commit."""
        self._track(batch)
