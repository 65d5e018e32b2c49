"""Readers follow authors through the edge; a book the library adds by one of them reaches the reader's mail
(seed 004's "waiting list for an author"); an unfollowed author's next book does not."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e


def until(probe: Callable[[], Any], accept: Callable[[Any], bool], *, seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while not accept(value := probe()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


def add_book(edge: httpx.Client, staff, *authors: str) -> tuple[str, str]:
    title = f"Notes of a Young Doctor {uuid.uuid4().hex[:6]}"
    created = edge.post("/v1/books", json={"title": title, "authors": list(authors)}, headers=staff.headers)
    assert created.status_code == 200, created.text
    return created.json()["name"], title


def mail_about(mail_sink, email: str, title: str) -> list[dict]:
    return [m for m in mail_sink.messages() if email in m["rcpt_tos"] and title in m["headers"].get("Subject", "")]


def test_a_follower_is_mailed_a_new_book_by_the_author_until_they_unfollow(
    edge, librarian, new_reader, mail_sink
) -> None:
    reader = new_reader()
    author = f"Bulgakov{uuid.uuid4().hex[:6]}, Mikhail"  # a name no other test's book carries
    followed = edge.post(
        f"/v1/{reader.name}/followedAuthors",
        json={"author": f" {author} "},
        params={"request_id": str(uuid.uuid4())},
        headers=reader.headers,
    )
    assert followed.status_code == 200, followed.text
    follow = followed.json()
    assert follow["author"] == author and follow["name"].startswith(f"{reader.name}/followedAuthors/")
    again = edge.post("/v1/users/me/followedAuthors", json={"author": author.upper()}, headers=reader.headers)
    assert again.status_code == 409 and follow["name"] in again.text, again.text

    first_name, last_name = (part.strip() for part in author.split(",")[::-1])
    book, title = add_book(edge, librarian, f"{first_name} {last_name}", "Someone Else")
    mails = until(lambda: mail_about(mail_sink, reader.email, title), bool, seconds=15)
    assert mails, "the follower was not told of the new book"
    text = mail_sink.message(mails[0]["n"])["text"]
    assert title in text and f"/#/{book}" in text
    listed = edge.get(f"/v1/{reader.name}/notifications", params={"kind": "new_book_by_author"}, headers=reader.headers)
    assert [n["subject"] for n in listed.json()["notifications"]] == [mails[0]["headers"]["Subject"]]

    mine = edge.get("/v1/users/me/followedAuthors", headers=reader.headers)
    assert mine.status_code == 200 and [f["name"] for f in mine.json()["followed_authors"]] == [follow["name"]]
    gone = edge.delete(f"/v1/{follow['name']}", headers=reader.headers)
    assert gone.status_code == 200, gone.text
    assert edge.get("/v1/users/me/followedAuthors", headers=reader.headers).json().get("followed_authors", []) == []

    _, later = add_book(edge, librarian, f"{first_name} {last_name}")
    time.sleep(3)  # the first book's mail came within seconds: this one would have too
    assert mail_about(mail_sink, reader.email, later) == []


def test_a_reader_may_not_see_or_change_another_readers_follows(edge, librarian, new_reader) -> None:
    owner, other = new_reader(), new_reader()
    made = edge.post(f"/v1/{owner.name}/followedAuthors", json={"author": "Anna Akhmatova"}, headers=owner.headers)
    assert made.status_code == 200, made.text
    name = made.json()["name"]
    assert edge.get(f"/v1/{owner.name}/followedAuthors", headers=other.headers).status_code == 403
    assert (
        edge.post(f"/v1/{owner.name}/followedAuthors", json={"author": "X"}, headers=other.headers).status_code == 403
    )
    assert edge.delete(f"/v1/{name}", headers=other.headers).status_code == 403
    staff_view = edge.get(f"/v1/{owner.name}/followedAuthors", headers=librarian.headers)
    assert [f["name"] for f in staff_view.json()["followed_authors"]] == [name]
