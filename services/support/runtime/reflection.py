"""Server reflection that also finds a method: `grpcurl describe pkg.Service.Method` asks for the file that
holds the method's symbol, and Python's descriptor pool finds services, messages, fields and enums by name,
but not methods ("Symbol not found"). A method is looked up through its service, whose file holds it."""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor_pool import DescriptorPool
from grpc_reflection.v1alpha._async import ReflectionServicer


def symbol_in_pool(pool: DescriptorPool, symbol: str) -> str:
    """`symbol`, or its service's name when `symbol` names one of that service's methods."""
    try:
        pool.FindFileContainingSymbol(symbol)
    except KeyError:
        service, _, method = symbol.rpartition(".")
        try:
            found = pool.FindServiceByName(service)
        except KeyError:
            return symbol
        return service if method in found.methods_by_name else symbol
    return symbol


class MethodAwareReflection(ReflectionServicer):
    def _file_containing_symbol(self, request: Any, fully_qualified_name: str) -> Any:
        return super()._file_containing_symbol(request, symbol_in_pool(self._pool, fully_qualified_name))
