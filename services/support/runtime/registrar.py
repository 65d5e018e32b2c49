"""What servicers are added to in place of the server, so that the server interceptor wraps each handler once,
when it is registered, rather than on every call.

Its own module because it is how handlers reach the server, not what happens to a call: the interceptor
(interceptors.py) hands one out from `ServerInterceptor.registrar`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import grpc

from services.support.runtime.method_handlers import Handler

if TYPE_CHECKING:
    from services.support.runtime.interceptors import ServerInterceptor  # which imports us


class Registrar:
    """Stands for the server while servicers are added: every handler they register is wrapped by the
    interceptor there and then, so the server itself runs no interceptor. grpc.aio awaits each interceptor's
    `intercept_service` on every call, which cost ~10 % of a cached GetBook even with one interceptor."""

    def __init__(self, server: grpc.aio.Server, interceptor: ServerInterceptor) -> None:
        self._server = server
        self._interceptor = interceptor

    def add_registered_method_handlers(self, service: str, handlers: dict[str, Handler]) -> None:
        wrap = self._interceptor.wrap
        wrapped = {name: wrap(f"/{service}/{name}", handler) for name, handler in handlers.items()}
        self._server.add_registered_method_handlers(service, wrapped)  # type: ignore[attr-defined]

    def add_generic_rpc_handlers(self, handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        self._server.add_generic_rpc_handlers([_WrappedGeneric(h, self._interceptor) for h in handlers])


class _WrappedGeneric(grpc.GenericRpcHandler):
    def __init__(self, inner: grpc.GenericRpcHandler, interceptor: ServerInterceptor) -> None:
        self._inner = inner
        self._interceptor = interceptor

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> Handler | None:
        return self._interceptor.wrap(handler_call_details.method, self._inner.service(handler_call_details))
