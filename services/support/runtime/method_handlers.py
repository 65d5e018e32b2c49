"""What a gRPC method handler is to the runtime, and how to wrap the one behavior it serves.

Its own module because the server interceptor, admission and the request ledger all wrap handlers, and
admission and the ledger need no more of the interceptor than this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import grpc

if TYPE_CHECKING:
    Handler = grpc.RpcMethodHandler[Any, Any]
else:
    Handler = grpc.RpcMethodHandler
BEHAVIORS = ("unary_unary", "unary_stream", "stream_unary", "stream_stream")


def replace_behavior(handler: Handler, wrap: Callable[[str, Any], Any]) -> Handler:
    """The handler with its one behavior wrapped: `wrap(kind, behavior)`, kind one of BEHAVIORS.
    A kind ending in "_unary" answers one message; the others stream their answers."""
    for kind in BEHAVIORS:
        behavior = getattr(handler, kind)
        if behavior is not None:
            replaced: Handler = cast(Any, handler)._replace(**{kind: wrap(kind, behavior)})
            return replaced
    return handler
