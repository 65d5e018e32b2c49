"""The Russian half of `athenaeum catalog demo` reads as Russian: a genitive of each noun as the language forms
it (из сада, с берега; not "из путьа", "из берега"), no road "через путь", and a surname in its first name's
gender (Ольга Морозова, Пётр Орлов; not "Ольга Морозов", "Пётр Орлова")."""
# ruff: noqa: RUF001, RUF002 (Russian on purpose)

from __future__ import annotations

import csv

from services.catalog.api import demo

WOMEN = {"Анна", "Мария", "Ольга", "Елена", "Татьяна"}


def _russian_rows(titles: int = 3000) -> list[list[str]]:
    return [row for row in csv.reader(demo.rows(titles)) if row[7] == "ru"]


def test_russian_titles_use_each_noun_s_own_case_and_preposition() -> None:
    titles = [row[1] for row in _russian_rows()]
    letters = {title for title in titles if title.startswith("Письма ")}
    roads = {title for title in titles if title.startswith("Дорога ")}
    assert letters and roads
    assert "Письма с берега" in letters and "Письма из сада" in letters
    assert all(not title.endswith(("ьа", "из берега", "из маяка", "из острова")) for title in letters)
    assert "Дорога через путь" not in roads
    assert "Письма из путьа" not in titles


def test_russian_authors_take_the_surname_of_their_first_name_s_gender() -> None:
    authors = [name for row in _russian_rows() for name in row[3].split(";")]
    assert len(authors) > 500
    for author in authors:
        first, last = author.split(" ")
        assert last.endswith("а") == (first in WOMEN), author
    assert {a.split(" ")[0] for a in authors} >= {"Ольга", "Пётр"}  # both genders were drawn
