"""A patron's name is matched word by word, in any order, with "e" typed for "yo"."""

from __future__ import annotations

import pytest

from services.users.domain.patron_search import name_matches


@pytest.mark.parametrize("query", ["петр", "Петр Сидоров", "сидоров пётр", "СИДОР  Пёт"])
def test_the_words_of_a_name_match_in_any_order_and_case(query: str) -> None:
    assert name_matches(query, "Пётр Сидоров")


@pytest.mark.parametrize("query", ["", "   ", "Сидоров Иван", "Петров"])
def test_a_name_without_one_of_the_words_does_not_match(query: str) -> None:
    assert not name_matches(query, "Пётр Сидоров")
