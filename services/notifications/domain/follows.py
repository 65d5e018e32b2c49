# ruff: noqa: RUF001, RUF002, RUF003  (Cyrillic letters on purpose: "ё" is folded to "е")
"""Authors a reader follows: each book by one of them added to the catalog is announced to the reader. An
author is matched by a key made from the name, so the ways a name gets typed match. Pure."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from services.notifications.domain.kinds import Kind
from services.notifications.domain.occurrences import Intake, Occurrence
from services.notifications.domain.wording import Fact
from services.support.runtime.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from services.support.runtime.names import NamePattern

FOLLOWED_AUTHOR = NamePattern("users/{user}/followedAuthors/{followed_author}")
MAX_AUTHOR_LENGTH = 200
MAX_FOLLOWED_AUTHORS = 100
"""Per reader: a follow costs every new book a look-up, and nobody reads a hundred authors' news."""


def author_key(name: str) -> str:
    """What two spellings of one author share: case-folded, "ё" as "е", punctuation and extra spaces gone, the
    words sorted ("Булгаков, Михаил" and "михаил булгаков" give one key). Latin and Cyrillic stay apart."""
    folded = unicodedata.normalize("NFKC", name).casefold().replace("ё", "е")
    kept = "".join(char if char.isalnum() else " " for char in folded)
    return " ".join(sorted(kept.split()))


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
    """A book just added to the catalog, as its event tells of it."""

    event_id: uuid.UUID
    occurred_at: datetime
    book: str
    """"books/{book}"."""
    title: str
    authors: tuple[str, ...]
    trace: Mapping[str, str] = field(default_factory=dict)

    @property
    def keys(self) -> dict[str, str]:
        """Each author's key, with the first of the book's spellings of it."""
        keys: dict[str, str] = {}
        for author in self.authors:
            if key := author_key(author):
                keys.setdefault(key, author)
        return keys


def announce(book: NewBook, follows: Iterable[FollowedAuthor]) -> Intake | None:
    """One announcement per reader who follows one of the book's authors (one, whichever of them they follow:
    all carry the event's id, so a redelivered event adds none); None when nobody follows them."""
    following: dict[str, set[uuid.UUID]] = {}
    for follow in follows:
        following.setdefault(follow.key, set()).add(follow.user_id)
    readers: dict[uuid.UUID, str] = {}  # each told of the first of the book's authors they follow
    for key, author in book.keys.items():
        for reader in sorted(following.get(key, ())):
            readers.setdefault(reader, author)
    if not readers:
        return None
    facts: dict[str, Fact] = {
        "book_title": book.title,
        "authors": ", ".join(book.authors),
        "book_id": book.book.rpartition("/")[2],
    }
    told = tuple(
        Occurrence(book.event_id, book.occurred_at, Kind.NEW_BOOK_BY_AUTHOR, reader, {**facts, "author": author},
                   trace=dict(book.trace))
        for reader, author in readers.items()
    )  # fmt: skip
    return Intake(book.event_id, occurrences=told)
