"""Every item of a List or Search RPC, page after page: the iterator sends `next_page_token` back as
`page_token` until the server says there is no more.

    for book in pages(client.catalog.list_books, catalog.ListBooksRequest(page_size=100)):
        print(book.title)
    async for loan in apages(client.loans.list_loans, loans.ListLoansRequest(parent="users/me")):
        ...
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import betterproto2

Request = TypeVar("Request", bound=betterproto2.Message)
Page = TypeVar("Page", bound=betterproto2.Message)


def items_of(page: betterproto2.Message, field: str | None = None) -> list[Any]:
    """The items of one page: `field`, or the response's first repeated field (AIP-158: `books`, `loans`…)."""
    if field is not None:
        return list(getattr(page, field))
    for item in dataclasses.fields(page):  # betterproto2 messages are dataclasses, fields in proto order
        value = getattr(page, item.name)
        if isinstance(value, list):
            return value
    raise TypeError(f"{type(page).__name__} has no repeated field to iterate")


def pages(
    method: Callable[..., Page], request: Request, *, field: str | None = None, **call_options: Any
) -> Iterator[Any]:
    """Every item over all pages of `method(request)`; `call_options` (timeout, metadata) go to each call."""
    while True:
        page = method(request, **call_options)
        yield from items_of(page, field)
        token = getattr(page, "next_page_token", "")
        if not token:
            return
        request = dataclasses.replace(request, page_token=token)


async def apages(
    method: Callable[..., Awaitable[Page]], request: Request, *, field: str | None = None, **call_options: Any
) -> AsyncIterator[Any]:
    """`pages` for the async client."""
    while True:
        page = await method(request, **call_options)
        for item in items_of(page, field):
            yield item
        token = getattr(page, "next_page_token", "")
        if not token:
            return
        request = dataclasses.replace(request, page_token=token)
