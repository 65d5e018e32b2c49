"""Python client for the Athenaeum library API (gRPC through the edge).

    from athenaeum_client import Client, catalog, pages

    with Client("localhost:8080") as client:
        client.sign_in("librarian@example.org", "…")
        for book in pages(client.catalog.list_books, catalog.ListBooksRequest(page_size=50)):
            print(book.name, book.title)

Messages and enums: `athenaeum_client.users`, `.catalog`, `.loans`, `.notifications`, `.events` (generated with
betterproto2 from the protos); stubs: `client.users`, `client.auth`, `client.catalog`, `client.loans`,
`client.notifications`, `client.events` (every method takes `timeout=` and `metadata=`); errors:
`athenaeum_client.errors`. `FieldMask`: the `update_mask` every Update RPC takes
(`update_mask=FieldMask(paths=["title"])`).
"""

from . import catalog, events, loans, notifications, rpc, users
from .client import AsyncClient, Client
from .errors import (
    Aborted,
    AlreadyExists,
    ApiError,
    Cancelled,
    DeadlineExceeded,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RequestSerializationError,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    Unimplemented,
)
from .generated.google.protobuf import FieldMask  # the one well-known type a caller builds (datetimes are native)
from .pages import apages, pages

__all__ = [
    "Aborted",
    "AlreadyExists",
    "ApiError",
    "AsyncClient",
    "Cancelled",
    "Client",
    "DeadlineExceeded",
    "FailedPrecondition",
    "FieldMask",
    "Internal",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "RequestSerializationError",
    "ResourceExhausted",
    "Unauthenticated",
    "Unavailable",
    "Unimplemented",
    "apages",
    "catalog",
    "events",
    "loans",
    "notifications",
    "pages",
    "rpc",
    "users",
]
