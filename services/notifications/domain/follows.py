# ruff: noqa: RUF002, RUF003  (Cyrillic letters on purpose: "ё" is folded to "е")
"""Authors a reader follows: each book by one of them added to the catalog (or added to a book later) is
announced to the reader. An author is matched by the words of the name (author_names), so the ways a catalog
writes one person match. Pure."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from services.notifications.domain.author_names import PersonName, matches, people_in, words_of
from services.notifications.domain.kinds import Kind
from services.notifications.domain.occurrences import Digest, Intake, Occurrence, Reminder
from services.notifications.domain.wording import Fact, Titles
from services.support.runtime.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from services.support.runtime.names import NamePattern

FOLLOWED_AUTHOR = NamePattern("users/{user}/followedAuthors/{followed_author}")
MAX_AUTHOR_LENGTH = 200
MAX_FOLLOWED_AUTHORS = 100
"""Per reader: a follow costs every new book a look-up, and nobody reads a hundred authors' news."""
DIGEST_TITLES = 5
"""The titles a digest of a followed author's books names; the rest are counted ("and 3 more")."""


# A book edited to add an author is announced to each reader once, whichever edits add whom: its announcements
# carry one id per book, which the notifications' one-per-event-and-recipient rule holds to.
_ADDED_AUTHORS = uuid.UUID("5f0c7d2e-8f9b-4a53-9a55-2f1b8e6f4c11")
_DIGEST = uuid.UUID("0b8f5a3e-4c1d-4e7a-9f26-7d1c3b5e9a40")


def author_key(name: str) -> str:
    """What two ways of typing one name share: case-folded, "ё" as "е", punctuation and extra spaces gone, the
    words sorted ("Булгаков, Михаил" and "михаил булгаков" give one key): one follow per reader and key.
    Latin and Cyrillic stay apart."""
    return " ".join(sorted(words_of(name)))


def clean_author(raw: str, *, field: str = "followed_author.author") -> str:
    """The author's name as the reader typed it, trimmed; InvalidArgument when it cannot name anyone."""
    author = raw.strip()
    if not author:
        raise InvalidArgument.field(field, "is required")
    if len(author) > MAX_AUTHOR_LENGTH:
        raise InvalidArgument.field(field, f"must be at most {MAX_AUTHOR_LENGTH} characters")
    if any(unicodedata.category(char).startswith("C") for char in author):
        raise InvalidArgument.field(field, "must not contain control characters")
    if not author_key(author):
        raise InvalidArgument.field(field, "must contain a letter or a digit")
    if not PersonName.of(author).words:
        raise InvalidArgument.field(field, "must contain a whole word such as the surname, not only initials")
    return author


@dataclass(frozen=True, slots=True)
class FollowedAuthor:
    id: uuid.UUID
    user_id: uuid.UUID
    author: str
    """As the reader typed it (trimmed)."""
    key: str
    """author_key(author): one per reader and key."""
    created_at: datetime

    @classmethod
    def follow(cls, user_id: uuid.UUID, author: str, *, now: datetime) -> FollowedAuthor:
        cleaned = clean_author(author)
        return cls(uuid.uuid4(), user_id, cleaned, author_key(cleaned), now)

    @property
    def name(self) -> str:
        return FOLLOWED_AUTHOR.format(self.user_id, self.id)

    @property
    def person(self) -> PersonName:
        return PersonName.of(self.author)

    @property
    def words(self) -> list[str]:
        """Its whole words (no initials), sorted: what the store finds follows by."""
        return sorted(self.person.words)


class FollowedAuthorNotFound(NotFound):
    reason = "FOLLOWED_AUTHOR_NOT_FOUND"

    def __init__(self, name: str) -> None:
        super().__init__(name, f"{name} not found")


def already_following(existing: FollowedAuthor) -> AlreadyExists:
    """The reader follows this author already (under the name they typed then, which `existing` names)."""
    return AlreadyExists(
        f"the reader already follows {existing.author!r}",
        reason="ALREADY_FOLLOWING",
        metadata={"followed_author": existing.name},
    )


def too_many_follows() -> FailedPrecondition:
    return FailedPrecondition(
        f"a reader may follow at most {MAX_FOLLOWED_AUTHORS} authors: unfollow one first",
        reason="FOLLOWED_AUTHORS_LIMIT",
        metadata={"limit": str(MAX_FOLLOWED_AUTHORS)},
    )


@dataclass(frozen=True, slots=True)
class NewBook:
    """A book just added to the catalog, or one whose authors were edited, as its event tells of it."""

    event_id: uuid.UUID
    occurred_at: datetime
    book: str
    """"books/{book}"."""
    title: str
    authors: tuple[str, ...]
    trace: Mapping[str, str] = field(default_factory=dict)
    previous_authors: tuple[str, ...] | None = None
    """The authors before an edit of them; None for a new book. Only the authors an edit added are announced,
    and only to readers who follow none of those it had: they were told when it came."""

    @property
    def people(self) -> list[tuple[str, PersonName]]:
        """Each person the authors name (an author string may name two), with the author string."""
        return [(author, person) for author in self._announced() for person in people_in(author)]

    @property
    def words(self) -> set[str]:
        """Every whole word of the announced authors' names: a follow that matches shares one of them."""
        return {word for _, person in self.people for word in person.words}

    def _announced(self) -> tuple[str, ...]:
        if self.previous_authors is None:
            return self.authors
        had = {author_key(author) for author in self.previous_authors}
        return tuple(author for author in self.authors if author_key(author) not in had)

    def told_before(self, follow: FollowedAuthor) -> bool:
        """Whether the follow matches one of the authors the book had before the edit."""
        return any(follows_author(follow, author) for author in self.previous_authors or ())

    @property
    def announcement_id(self) -> uuid.UUID:
        """The event's id for a new book; one id per book for edits that add authors (told once per reader)."""
        if self.previous_authors is None:
            return self.event_id
        return uuid.uuid5(_ADDED_AUTHORS, self.book)


def follows_author(follow: FollowedAuthor, author: str) -> bool:
    """Whether the follow matches one of the people the author string names, or the string as it is (a reader
    who followed "Donovan & Kernighan" as a book gave it)."""
    return follow.key == author_key(author) or any(matches(follow.person, p) for p in people_in(author))


def announce(book: NewBook, follows: Iterable[FollowedAuthor]) -> Intake | None:
    """One announcement per reader who follows one of the book's authors (one, whichever of them they follow:
    all carry one id, so a redelivered event adds none); None when nobody follows them. At most one a reader
    per followed author and hour is told at once (hourly_key); the later books of that hour are gathered into
    one digest told when the hour ends (finding B3), each book once (its item key)."""
    followed = sorted((f for f in follows if not book.told_before(f)), key=lambda f: f.user_id)
    readers: dict[uuid.UUID, tuple[str, FollowedAuthor]] = {}  # the first of the book's authors each follows
    for author, person in book.people:
        for follow in followed:
            if matches(follow.person, person) or follow.key == author_key(author):  # as written, too
                readers.setdefault(follow.user_id, (author, follow))
    if not readers:
        return None
    facts: dict[str, Fact] = {
        "book_title": book.title,
        # "; " between people: a catalog heading is "Фамилия, Имя", so ", " would make two people four
        "authors": "; ".join(book.authors),
        "book_id": book.book.rpartition("/")[2],
    }
    told = tuple(
        Occurrence(book.announcement_id, book.occurred_at, Kind.NEW_BOOK_BY_AUTHOR, reader,
                   {**facts, "author": author}, step_key=hourly_key(follow, book.occurred_at),
                   trace=dict(book.trace), digest=_digest(reader, book))
        for reader, (author, follow) in readers.items()
    )  # fmt: skip
    return Intake(book.event_id, occurrences=told)


def hourly_key(follow: FollowedAuthor, at: datetime) -> str:
    """One announcement at once per follow and hour of the books' events (UTC): an import of a publisher's
    backlist makes a mail, not one per book (finding FO2). The notifications' step keys hold it, as reminder
    steps; the key also names the hour's digest (a reminder), so that an unfollow finds it (digests_of)."""
    return f"{digests_of(follow.user_id, follow.id)}{at.astimezone(UTC):%Y-%m-%dT%H}"


def digests_of(user_id: uuid.UUID, follow_id: uuid.UUID | None = None) -> str:
    """What the keys of the digests gathered for the reader (for one of their follows) begin with: a follow
    removed, or an account closed, before its digest goes takes the digest with it."""
    return f"new_book_by_author/{user_id}/{follow_id}/" if follow_id else f"new_book_by_author/{user_id}/"


def _digest(reader: uuid.UUID, book: NewBook) -> Digest:
    hour = book.occurred_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return Digest(item_key=f"new_book_told/{reader}/{book.announcement_id}", due_at=hour + timedelta(hours=1))


def told_together(digest: Reminder) -> Occurrence:
    """The notice of an hour's gathered books: each named once (a book that came twice too), by its facts
    alone when it is the only one; else the first's facts with `book_count` and `book_titles`. Its id comes
    from its books, so telling it again adds nothing, and a book gathered after it went makes a notice of its
    own."""
    books = list({str(facts.get("book_id")): facts for facts in digest.occurrence.gathered}.values())
    if not books:
        return digest.occurrence
    ids = ",".join(sorted(str(facts.get("book_id")) for facts in books))
    facts = dict(books[0])
    if len(books) > 1:
        titles = tuple(str(book.get("book_title", "")) for book in books)
        facts |= {"book_count": len(books), "book_titles": Titles(titles, DIGEST_TITLES)}
    event_id = uuid.uuid5(_DIGEST, f"{digest.key}/{ids}")
    return replace(digest.occurrence, event_id=event_id, facts=facts, gathered=())
