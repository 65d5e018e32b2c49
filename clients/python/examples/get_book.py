"""Create a book through the edge and read it back (signing in first when credentials are given).

ATHENAEUM_EDGE=localhost:8080 python examples/get_book.py
ATHENAEUM_EMAIL=librarian@example.org ATHENAEUM_PASSWORD=... python examples/get_book.py
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any, NamedTuple

import grpc
from athenaeum_client.athenaeum.catalog import v1 as catalog
from athenaeum_client.athenaeum.users import v1 as users


class _CallDetails(NamedTuple):
    method: str
    timeout: float | None
    metadata: Any
    credentials: Any
    wait_for_ready: bool | None
    compression: Any


class BearerToken(grpc.UnaryUnaryClientInterceptor):
    """Adds the access token to every call (the generated stubs take no metadata argument)."""

    def __init__(self, access_token: str) -> None:
        self._header = ("authorization", f"Bearer {access_token}")

    def intercept_unary_unary(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        metadata = [*(details.metadata or ()), self._header]
        with_token = _CallDetails(
            details.method,
            details.timeout,
            metadata,
            details.credentials,
            details.wait_for_ready,
            details.compression,
        )
        return continuation(with_token, request)


def main() -> None:
    """Create a book and get it back by name."""
    channel = grpc.insecure_channel(os.environ.get("ATHENAEUM_EDGE", "localhost:8080"))
    if "ATHENAEUM_EMAIL" in os.environ:
        login = users.AuthServiceStub(channel).login(
            users.LoginRequest(email=os.environ["ATHENAEUM_EMAIL"], password=os.environ["ATHENAEUM_PASSWORD"])
        )
        channel = grpc.intercept_channel(channel, BearerToken(login.tokens.access_token))
    books = catalog.CatalogServiceStub(channel)

    created = books.create_book(
        catalog.CreateBookRequest(
            book=catalog.Book(
                title="Мастер и Маргарита",
                authors=["Михаил Булгаков"],
                language="ru",
                publication_year=1967,
            ),
            # A retry with the same id returns the same book instead of creating a second one.
            request_id=str(uuid.uuid4()),
        )
    )
    fetched = books.get_book(catalog.GetBookRequest(name=created.name))
    print(f"{fetched.name}: {fetched.title} ({fetched.publication_year}), etag {fetched.etag}")


if __name__ == "__main__":
    main()
