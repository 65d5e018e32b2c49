"""The `update_mask` every Update RPC takes is built from the client's top level, as its README shows."""

from __future__ import annotations

import athenaeum_client
from athenaeum_client import FieldMask, catalog

from athenaeum.catalog.v1 import catalog_pb2


def test_an_update_mask_is_built_with_the_field_mask_the_package_exports() -> None:
    assert "FieldMask" in athenaeum_client.__all__
    request = catalog.UpdateBookRequest(
        book=catalog.Book(name="books/6f1c2d1e-8b0a-4a57-9d0e-2b7f3f1a9c11", title="New", etag="W/1"),
        update_mask=FieldMask(paths=["title", "publication_year"]),
    )
    sent = catalog_pb2.UpdateBookRequest.FromString(bytes(request))  # as the server reads it
    assert list(sent.update_mask.paths) == ["title", "publication_year"]
    assert (sent.book.title, sent.book.etag) == ("New", "W/1")
