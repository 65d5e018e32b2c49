"""In-memory users and catalog that keep the peers' contracts (idempotent per loan / hold), for the use
cases' unit tests and the integration tests (real Postgres, fake peers)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from services.loans.domain.borrowing import BookTitle, CopyInfo, Eligibility
from services.loans.domain.item_types import ANY_ITEM_TYPE, ItemTypes
from services.support.runtime.branches import same_branch
from services.support.runtime.errors import DependencyUnavailable, FailedPrecondition, NotFound


class FakeUsers:
    def __init__(self) -> None:
        self.down = False
        self.blocked: dict[str, tuple[str, ...]] = {}
        self.categories: dict[str, str] = {}
        self.home_branches: dict[str, str] = {}
        """A patron's home branch when not MAIN."""
        self.closed: set[str] = set()
        """Accounts closed (DEACTIVATED)."""

    async def eligibility(self, patron: str) -> Eligibility:
        if self.down:
            raise DependencyUnavailable("users is down", reason="USERS_UNAVAILABLE")
        if patron.endswith("/nobody"):
            raise NotFound(patron)
        reasons = self.blocked.get(patron, ())
        if patron in self.closed:
            reasons = ("account closed",)
        return Eligibility(
            patron,
            not reasons,
            self.categories.get(patron, "ADULT"),
            reasons,
            self.home_branches.get(patron, "MAIN"),
            closed=patron in self.closed,
        )

    async def account(self, patron: str) -> Eligibility:
        return await self.eligibility(patron)


KNOWN_ITEM_TYPES = ("BOOK", "DVD", "NEW", "PAPERBACK", "REFERENCE", "TERM")
"""The item types the fake catalog lists from the start (those the tests' rules name)."""


@dataclass
class FakeCatalog:
    titles: dict[str, str] = field(default_factory=dict)
    languages: dict[str, str] = field(default_factory=dict)
    """Books' languages, by name (none: not known)."""
    copies: dict[str, CopyInfo] = field(default_factory=dict)
    down: bool = False
    sent_home: dict[str, str] = field(default_factory=dict)
    """Copies sent home (IN_TRANSIT, no hold), by name: the branch whose hold shelf they left."""
    check_outs: int = 0
    reserves: int = 0
    """ReserveCopy calls, answered or refused."""
    availability_calls: int = 0
    title_lookups: int = 0
    copy_lookups: int = 0
    answers_titles: bool = True
    """A check-out answers the book's title (as the catalog does since issue 13); False: an older catalog."""
    item_types: set[str] = field(default_factory=lambda: set(KNOWN_ITEM_TYPES))
    """The catalog's list of item types (a book added with another type adds it, as a copy needs it listed)."""
    item_type_lookups: int = 0
    item_type_listings: int = 0

    def add_book(
        self, title: str = "Dead Souls", *, copies: int = 1, item_type: str = "BOOK", language: str = ""
    ) -> tuple[str, list[str]]:
        book = f"books/{uuid.uuid4()}"
        self.titles[book] = title
        if language:
            self.languages[book] = language
        self.item_types.add(item_type)
        names = []
        for _ in range(copies):
            name = f"{book}/copies/{uuid.uuid4()}"
            self.copies[name] = CopyInfo(name, book, f"BC-{uuid.uuid4().hex[:10]}", item_type, "AVAILABLE", version=1)
            names.append(name)
        return book, names

    def rename_item_type(self, old: str, new: str, *, at: datetime) -> None:
        """RenameItemType: the type's copies take the new code at once, and say when it was given."""
        self.item_types = (self.item_types - {old}) | {new}
        for name, copy in list(self.copies.items()):
            if copy.item_type == old:
                self.copies[name] = replace(copy, item_type=new, item_type_renamed_at=at)

    def remove_book(self, book: str) -> None:
        """DeleteBook: the book and its copies are gone (the catalog refuses it while one is in circulation)."""
        del self.titles[book]
        self.copies = {name: copy for name, copy in self.copies.items() if copy.book != book}

    def barcode(self, copy: str) -> str:
        return self.copies[copy].barcode

    def status(self, copy: str) -> str:
        return self.copies[copy].status

    def _gate(self) -> None:
        if self.down:
            raise DependencyUnavailable("catalog is down", reason="CATALOG_UNAVAILABLE")

    def _set(self, copy: CopyInfo, **changes: str | bool) -> CopyInfo:
        changes.setdefault("sent", False)  # every move but a check-in sent on for a hold clears it
        self.copies[copy.name] = replace(copy, version=copy.version + 1, **changes)  # type: ignore[arg-type]
        return self.copies[copy.name]

    async def has_item_type(self, code: str) -> bool:
        self._gate()
        self.item_type_lookups += 1
        return code in self.item_types

    async def item_type_codes(self) -> set[str]:
        self._gate()
        self.item_type_listings += 1
        return set(self.item_types)

    async def book_title(self, book: str) -> BookTitle:
        self._gate()
        self.title_lookups += 1
        if book not in self.titles:
            raise NotFound(book)
        return BookTitle(self.titles[book], self.languages.get(book, ""))

    async def lookup_copy(self, barcode: str) -> CopyInfo:
        self.copy_lookups += 1
        return await self._by_barcode(barcode)

    async def _by_barcode(self, barcode: str) -> CopyInfo:
        self._gate()
        for copy in self.copies.values():
            if copy.barcode.lower() == barcode.lower():  # as the catalog matches them
                return copy
        raise NotFound(f"copies/-?barcode={barcode}")

    async def get_copy(self, name: str) -> CopyInfo:
        self._gate()
        if name not in self.copies:
            raise NotFound(name)
        return self.copies[name]

    async def copies_of(self, book: str) -> list[CopyInfo]:
        self._gate()
        if book not in self.titles:
            raise NotFound(book)  # ListCopies' NOT_FOUND: no such book
        return [copy for copy in self.copies.values() if copy.book == book]

    async def copies_in_circulation(self) -> list[CopyInfo]:
        self._gate()
        return [copy for copy in self.copies.values() if copy.status in ("ON_LOAN", "ON_HOLD_SHELF", "IN_TRANSIT")]

    async def availability(self, books: Sequence[str]) -> dict[str, int]:
        self._gate()
        self.availability_calls += -(-len(books) // 100)  # a call per hundred, as the catalog takes them
        available = [copy.book for copy in self.copies.values() if copy.status == "AVAILABLE"]
        return {book: available.count(book) for book in books if book in self.titles}

    async def check_out(
        self, *, selector: tuple[str, str], loan: str, hold: str, item_types: ItemTypes = ANY_ITEM_TYPE
    ) -> CopyInfo:
        self._gate()
        for copy in self.copies.values():
            if copy.current_loan == loan:
                return self._titled(copy)  # idempotent per loan
        kind, value = selector
        if kind == "book":
            if value not in self.titles:
                raise NotFound(value)
            lendable = [
                c
                for c in self.copies.values()
                if c.book == value and self._lendable(c, hold) and (c.current_hold or item_types.admits(c.item_type))
            ]
            if not lendable:
                raise FailedPrecondition("no copy is available", reason="NO_COPY_AVAILABLE")
            copy = lendable[0]
        else:
            copy = await (self.get_copy(value) if kind == "copy" else self._by_barcode(value))
            if not self._lendable(copy, hold):
                raise FailedPrecondition(f"{copy.name} is {copy.status}", reason="COPY_NOT_AVAILABLE")
        self.check_outs += 1
        return self._titled(self._set(copy, status="ON_LOAN", current_loan=loan, current_hold=""))

    def _titled(self, copy: CopyInfo) -> CopyInfo:
        if not self.answers_titles:
            return copy
        return replace(copy, book_title=self.titles.get(copy.book, ""), book_language=self.languages.get(copy.book, ""))

    @staticmethod
    def _lendable(copy: CopyInfo, hold: str) -> bool:
        return copy.status == "AVAILABLE" or (
            copy.status in ("ON_HOLD_SHELF", "IN_TRANSIT") and bool(hold) and copy.current_hold == hold
        )

    async def check_in(
        self, *, copy: str, loan: str, hold: str, lost: bool = False, in_transit: bool = False
    ) -> CopyInfo:
        self._gate()
        current = await self.get_copy(copy)
        if current.current_loan != loan or current.status not in ("ON_LOAN", "LOST"):
            if current.status == "ON_LOAN":
                raise FailedPrecondition("on loan for another loan", reason="COPY_ON_ANOTHER_LOAN")
            return current  # already checked in
        if lost:
            return self._set(current, status="LOST")  # keeps the loan that lost it, as the catalog does
        if hold:
            held = "IN_TRANSIT" if in_transit else "ON_HOLD_SHELF"
            return self._set(current, status=held, current_loan="", current_hold=hold, sent=in_transit)
        return self._set(current, status="AVAILABLE", current_loan="")

    async def reserve(self, *, book: str, hold: str, branch: str, item_types: ItemTypes = ANY_ITEM_TYPE) -> CopyInfo:
        self._gate()
        self.reserves += 1
        for copy in self.copies.values():
            if copy.current_hold == hold:
                return copy
        free = [
            c
            for c in self.copies.values()
            if c.book == book and c.status == "AVAILABLE" and not c.not_for_loan and item_types.admits(c.item_type)
        ]
        if not free and book not in self.titles:
            raise NotFound(book)  # ReserveCopy's NOT_FOUND: no such book
        if not free:
            raise FailedPrecondition("no copy is available", reason="NO_COPY_AVAILABLE")
        return self._set(free[0], status="IN_TRANSIT", current_hold=hold)  # on the pull list

    async def release(self, *, copy: str, hold: str) -> CopyInfo:
        self._gate()
        current = await self.get_copy(copy)
        if current.current_hold != hold:
            raise FailedPrecondition("held for another hold", reason="COPY_HELD_FOR_ANOTHER")
        return self._set(current, status="AVAILABLE", current_hold="")

    async def shelve(self, *, copy: str, hold: str) -> CopyInfo:
        self._gate()
        current = await self.get_copy(copy)
        if current.current_hold != hold or current.status not in ("IN_TRANSIT", "ON_HOLD_SHELF"):
            raise FailedPrecondition(f"{copy} is not set aside for {hold}", reason="COPY_NOT_HELD")
        return self._set(current, status="ON_HOLD_SHELF")

    async def report_missing(self, *, copy: str, hold: str, status: str = "LOST") -> CopyInfo:
        self._gate()
        current = await self.get_copy(copy)
        if current.status == status and not current.held:
            return current  # a repeat
        if current.current_hold != hold or current.status not in ("IN_TRANSIT", "ON_HOLD_SHELF"):
            raise FailedPrecondition(f"{copy} is not set aside for {hold}", reason="COPY_NOT_HELD")
        return self._set(current, status=status, current_hold="")

    async def send_home(self, *, copy: str, from_branch: str) -> CopyInfo:
        self._gate()
        current = await self.get_copy(copy)
        at_home = same_branch(from_branch, current.branch) or not current.branch  # the catalog's rule
        if at_home or (current.status == "IN_TRANSIT" and not current.held):
            return current  # at home, or a repeat
        if current.status != "AVAILABLE":
            raise FailedPrecondition(f"{copy} is {current.status}", reason="COPY_NOT_AVAILABLE")
        self.sent_home[copy] = from_branch.strip()
        return self._set(current, status="IN_TRANSIT")

    async def receive_home(self, *, copy: str, branch: str, take_in: bool = False) -> CopyInfo:
        self._gate()
        current = await self.get_copy(copy)
        if current.status == "AVAILABLE":
            return current
        if current.status != "IN_TRANSIT" or current.held:
            raise FailedPrecondition(f"{copy} is {current.status}", reason="COPY_NOT_IN_TRANSIT")
        if not same_branch(branch, current.branch) and not take_in:
            return current
        self.sent_home.pop(copy, None)
        return self._set(current, status="AVAILABLE")
