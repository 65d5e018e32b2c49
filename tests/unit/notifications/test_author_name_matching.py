# ruff: noqa: RUF001  (Cyrillic letters on purpose)
"""A follow matches the ways a catalog writes one person: more words (a patronymic), initials, the surname
alone, and two people in one author string; not a namesake with another given name."""

from __future__ import annotations

import uuid

import pytest

from services.notifications.domain.follows import FollowedAuthor, NewBook, announce

from .conftest import NOON

BOOK = f"books/{uuid.uuid4()}"


def told(follow: str, *authors: str, before: tuple[str, ...] | None = None) -> bool:
    made = FollowedAuthor.follow(uuid.uuid4(), follow, now=NOON)
    book = NewBook(uuid.uuid4(), NOON, BOOK, "Записки юного врача", authors, previous_authors=before)
    return announce(book, [made]) is not None


@pytest.mark.parametrize(
    ("follow", "author"),
    [
        ("михаил булгаков", "Булгаков, Михаил"),
        ("михаил булгаков", "Булгаков, Михаил Афанасьевич"),
        ("Михаил Булгаков", "Булгаков М. А."),
        ("М. Булгаков", "Булгаков, Михаил"),
        ("М. Булгаков", "Булгаков, Михаил Афанасьевич"),
        ("М. Булгаков", "Булгаков М. А."),
        ("Булгаков", "Булгаков, Михаил Афанасьевич"),
        ("Булгаков", "Булгаков М. А."),
        ("Фёдор Достоевский", "Достоевский, Федор Михайлович"),
        ("Brian Kernighan", "Kernighan, Brian W."),
        ("Kernighan", "Donovan & Kernighan"),
        ("Alan Donovan", "Alan Donovan and Brian Kernighan"),
        ("Петров", "Ильф И. и Петров Е."),
        ("Иванов", "Донцова, Дарья; Иванов, Пётр"),
        ("Donovan & Kernighan", "Donovan & Kernighan"),  # the pair as the book gives it
    ],
)
def test_a_follow_matches_every_way_the_catalog_writes_the_author(follow: str, author: str) -> None:
    assert told(follow, author)


@pytest.mark.parametrize(
    ("follow", "author"),
    [
        ("Михаил Булгаков", "Булгаков, Афанасий Иванович"),  # the father: another given name
        ("М. Булгаков", "Булгаков А. И."),
        ("Булгаков", "Булгакова, Елена"),  # a word is whole
        ("Brian Kernighan", "Donovan & Kernighan"),  # the string names no Brian
        ("Ilf Ilya", "Ильф И. и Петров Е."),  # no transliteration
        ("Михаил Булгаков", "Михаил Лермонтов"),
        ("И Петров", "Иванов И. и Сидоров П."),  # the initial and the surname belong to one person
    ],
)
def test_a_follow_does_not_match_another_person(follow: str, author: str) -> None:
    assert not told(follow, author)


def test_co_authors_are_told_with_semicolons_between_them() -> None:
    made = FollowedAuthor.follow(uuid.uuid4(), "Дарья Донцова", now=NOON)
    book = NewBook(uuid.uuid4(), NOON, BOOK, "Детектив", ("Донцова, Дарья", "Иванов, Пётр"))
    intake = announce(book, [made])
    assert intake is not None
    (occurrence,) = intake.occurrences
    assert occurrence.facts["authors"] == "Донцова, Дарья; Иванов, Пётр"
    assert occurrence.facts["author"] == "Донцова, Дарья"


def test_an_edit_announces_only_the_authors_it_added_and_to_their_followers_only() -> None:
    before = ("Первый Автор",)
    assert told("Второй Соавтор", "Первый Автор", "Второй Соавтор", before=before)
    assert not told("Первый Автор", "Первый Автор", "Второй Соавтор", before=before)  # told when it came
    assert not told("Автор", "Первый Автор", "Второй Автор", before=before)  # follows a kept author too
    assert not told("Второй Соавтор", "Второй Соавтор", before=("Соавтор, Второй",))  # only respelled


def test_every_edit_of_a_book_announces_under_one_id_so_a_reader_hears_of_it_once() -> None:
    made = FollowedAuthor.follow(uuid.uuid4(), "Второй Соавтор", now=NOON)

    def edit() -> uuid.UUID:
        book = NewBook(uuid.uuid4(), NOON, BOOK, "Сборник", ("Первый", "Второй Соавтор"), previous_authors=("Первый",))
        intake = announce(book, [made])
        assert intake is not None
        return intake.occurrences[0].event_id

    assert edit() == edit()
