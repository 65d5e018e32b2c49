"""`grpcurl describe pkg.Service.Method`: reflection answers with the file of the method's service (Python's
descriptor pool alone answered "Symbol not found" for a method)."""

from __future__ import annotations

from google.protobuf import descriptor_pool

from athenaeum.catalog.v1 import catalog_pb2
from services.support.runtime.reflection import symbol_in_pool

SERVICE = catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"].full_name


def test_a_method_is_found_through_its_service() -> None:
    pool = descriptor_pool.Default()
    assert symbol_in_pool(pool, f"{SERVICE}.GetBook") == SERVICE
    assert pool.FindFileContainingSymbol(symbol_in_pool(pool, f"{SERVICE}.GetBook")).name == catalog_pb2.DESCRIPTOR.name


def test_other_symbols_and_unknown_names_are_asked_as_given() -> None:
    pool = descriptor_pool.Default()
    for symbol in (SERVICE, "athenaeum.catalog.v1.GetBookRequest", f"{SERVICE}.NoSuchMethod", "no.such.Thing"):
        assert symbol_in_pool(pool, symbol) == symbol
