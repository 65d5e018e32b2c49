"""The iteration behind `pages` / `apages` (their types are declared per RPC in generated/paging.py): the
iterator sends `next_page_token` back as `page_token` until the server says there is no more."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any

import betterproto2


def items_of(page: betterproto2.Message, field: str | None = None) -> list[Any]:
    """The items of one page: `field`, or the response's first repeated field (AIP-158: `books`, `loans`…)."""
    if field is not None:
        return list(getattr(page, field))
    # betterproto2 messages are dataclasses (not declared as such to a type checker), fields in proto order.
    for item in dataclasses.fields(page):  # type: ignore[arg-type]
        value = getattr(page, item.name)
        if isinstance(value, list):
            return value
    raise TypeError(f"{type(page).__name__} has no repeated field to iterate")


def iterate_pages(
    method: Callable[..., betterproto2.Message],
    request: betterproto2.Message,
    field: str | None,
    call_options: Mapping[str, Any],
) -> Iterator[Any]:
    while True:
        page = method(request, **call_options)
        yield from items_of(page, field)
        token = getattr(page, "next_page_token", "")
        if not token:
            return
        request = dataclasses.replace(request, page_token=token)  # type: ignore[type-var]


async def iterate_async(
    method: Callable[..., Awaitable[betterproto2.Message]],
    request: betterproto2.Message,
    field: str | None,
    call_options: Mapping[str, Any],
) -> AsyncIterator[Any]:
    while True:
        page = await method(request, **call_options)
        for item in items_of(page, field):
            yield item
        token = getattr(page, "next_page_token", "")
        if not token:
            return
        request = dataclasses.replace(request, page_token=token)  # type: ignore[type-var]
