"""One generic page of results (AIP-158) and the keyset step every List method shares.

Pure: use cases build pages; repositories return the rows of one more than a page, so `has_more` needs no
second query. The page token is opaque to clients: the cursor of the last row, bound to its query.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from services.support.runtime import pagination

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_page_token: str = ""
    total_size: int = 0

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        return Page([convert(item) for item in self.items], self.next_page_token, self.total_size)


def page_from_rows(
    rows: Sequence[T], *, limit: int, query: str, cursor_of: Callable[[T], Sequence[Any]], total_size: int = 0
) -> Page[T]:
    """`rows` holds up to limit + 1 items; the extra one only says that another page follows."""
    items = list(rows[:limit])
    token = pagination.encode_token(cursor_of(items[-1]), query) if len(rows) > limit and items else ""
    return Page(items, token, total_size)
