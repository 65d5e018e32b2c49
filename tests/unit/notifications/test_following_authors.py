# ruff: noqa: RUF001  (Cyrillic initials on purpose)
"""Readers follow authors: names matched however they are typed, at most a hundred per reader, each reader's
follows their own (and staff's)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.notifications.app.following import (
    FollowAuthor,
    ListFollowedAuthors,
    UnfollowAuthor,
    follow_author,
    list_followed_authors,
    unfollow_author,
)
from services.notifications.app.querying import Viewer
from services.notifications.domain.follows import MAX_FOLLOWED_AUTHORS, FollowedAuthor, author_key
from services.notifications.domain.recipients import AccountStatus
from services.support.runtime.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)

from .conftest import NOON
from .fakes import recipient

READER = uuid.uuid4()
ME = Viewer(f"users/{READER}", is_staff=False)
STAFF = Viewer(f"users/{uuid.uuid4()}", is_staff=True)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Булгаков, Михаил", "михаил булгаков"),
        ("Mikhail  Bulgakov", "Bulgakov, Mikhail"),
        ("Фёдор Достоевский", "ДОСТОЕВСКИЙ Федор"),
        ("  J.R.R. Tolkien ", "tolkien j r r"),
    ],
)
def test_spellings_of_one_author_share_a_key(one: str, other: str) -> None:
    assert author_key(one) == author_key(other)


def test_different_authors_have_different_keys() -> None:
    assert author_key("Mikhail Bulgakov") != author_key("Mikhail Lermontov")
    assert author_key("Михаил Булгаков") != author_key("Mikhail Bulgakov")  # no transliteration
    assert author_key("!!! ...") == ""


async def _follow(db, clock, author: str, *, viewer: Viewer = ME, user: uuid.UUID = READER, request_id=None):
    command = FollowAuthor(user, author, viewer, request_id=request_id)
    return await follow_author(command, uow=db.unit_of_work(), clock=clock)


async def test_a_reader_follows_an_author_under_the_name_they_typed(db, clock) -> None:
    follow = await _follow(db, clock, "  Булгаков, Михаил ")
    assert (follow.author, follow.key, follow.created_at) == ("Булгаков, Михаил", "булгаков михаил", NOON)
    assert follow.name == f"users/{READER}/followedAuthors/{follow.id}"
    assert list(db.follows.values()) == [follow]


async def test_following_the_same_author_again_names_the_follow_there_is(db, clock) -> None:
    first = await _follow(db, clock, "Mikhail Bulgakov")
    with pytest.raises(AlreadyExists) as refused:
        await _follow(db, clock, "bulgakov,  MIKHAIL")
    assert refused.value.metadata == {"followed_author": first.name}
    assert len(db.follows) == 1


async def test_a_retried_request_returns_the_first_follow(db, clock) -> None:
    request_id = uuid.uuid4()
    first = await _follow(db, clock, "Anna Akhmatova", request_id=request_id)
    db.requests[request_id] = ("FollowAuthor", first.name)  # what the runtime leaves once the first call ended
    assert await _follow(db, clock, "Anna Akhmatova", request_id=request_id) == first


async def test_a_reader_follows_at_most_a_hundred_authors(db, clock) -> None:
    for number in range(MAX_FOLLOWED_AUTHORS):
        await _follow(db, clock, f"Author {number}")
    with pytest.raises(FailedPrecondition) as refused:
        await _follow(db, clock, "One Too Many")
    assert refused.value.reason == "FOLLOWED_AUTHORS_LIMIT"
    assert len(db.follows) == MAX_FOLLOWED_AUTHORS


@pytest.mark.parametrize("author", ["", "   ", "x" * 201, "Bulgakov\x07", "—…—", "М. А.", "J. R. R."])
async def test_an_author_that_names_nobody_is_refused(db, clock, author: str) -> None:
    with pytest.raises(InvalidArgument):
        await _follow(db, clock, author)
    assert db.follows == {}


async def test_a_reader_may_not_follow_list_or_unfollow_for_another(db, clock) -> None:
    other = recipient().user_id
    db.recipients[other] = recipient(user_id=other)
    theirs = await _follow(db, clock, "Leo Tolstoy", viewer=STAFF, user=other)  # staff may
    with pytest.raises(PermissionDenied):
        await _follow(db, clock, "Leo Tolstoy", user=other)
    with pytest.raises(PermissionDenied):
        await list_followed_authors(ListFollowedAuthors(other, ME), uow=db.unit_of_work())
    with pytest.raises(PermissionDenied):
        await unfollow_author(UnfollowAuthor(other, theirs.id, ME), uow=db.unit_of_work())
    assert list(db.follows.values()) == [theirs]


async def test_the_list_pages_through_the_follows_most_recent_first(db, clock) -> None:
    for number in range(5):
        clock.advance(timedelta(seconds=1))
        await _follow(db, clock, f"Author {number}")
    first = await list_followed_authors(ListFollowedAuthors(READER, ME, page_size=3), uow=db.unit_of_work())
    rest = await list_followed_authors(
        ListFollowedAuthors(READER, ME, page_size=3, page_token=first.next_page_token), uow=db.unit_of_work()
    )
    names = [f.author for f in (*first.items, *rest.items)]
    assert names == [f"Author {n}" for n in (4, 3, 2, 1, 0)] and first.total_size == 5 and not rest.next_page_token


async def test_an_unfollowed_author_is_gone_and_unfollowing_again_finds_nothing(db, clock) -> None:
    follow = await _follow(db, clock, "Anton Chekhov")
    await unfollow_author(UnfollowAuthor(READER, follow.id, ME), uow=db.unit_of_work())
    assert db.follows == {}
    with pytest.raises(NotFound):
        await unfollow_author(UnfollowAuthor(READER, follow.id, ME), uow=db.unit_of_work())


def test_a_follow_is_made_from_the_trimmed_name() -> None:
    follow = FollowedAuthor.follow(READER, " Ivan Bunin ", now=NOON)
    assert (follow.author, follow.key) == ("Ivan Bunin", "bunin ivan")


async def test_staff_may_not_follow_for_an_account_nobody_has(db, clock) -> None:
    with pytest.raises(FailedPrecondition) as refused:
        await _follow(db, clock, "Ghost Writer", viewer=STAFF, user=uuid.uuid4())
    assert refused.value.reason == "UNKNOWN_RECIPIENT" and db.follows == {}


async def test_staff_may_not_follow_for_a_closed_account(db, clock) -> None:
    closed = recipient(status=AccountStatus.DEACTIVATED)
    db.recipients[closed.user_id] = closed
    with pytest.raises(FailedPrecondition) as refused:
        await _follow(db, clock, "Сергей Есенин", viewer=STAFF, user=closed.user_id)
    assert refused.value.reason == "ACCOUNT_CLOSED" and db.follows == {}
