"""Every item of a List or Search RPC, page after page: the iterator sends `next_page_token` back as
`page_token` until the server says there is no more.

    for book in pages(client.catalog.list_books, catalog.ListBooksRequest(page_size=100)):
        print(book.title)                       # book: catalog.Book, for a type checker too
    async for loan in apages(client.loans.list_loans, loans.ListLoansRequest(parent="users/me")):
        ...

Each paged RPC has an overload of its own (generated/paging.py): the items have the type of the response's
list, and a request of another method, or a method that is not paged, is a type error. With `field=` the
items are `Any`.
"""

from __future__ import annotations

from ._paging import items_of
from .generated.paging import apages, pages

__all__ = ["apages", "items_of", "pages"]
