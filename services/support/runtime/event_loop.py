"""The event loop a service's processes run on.

uvloop by default: its loop is written in Cython over libuv, and every call of a service turns the loop
several times (the gRPC completion queue, asyncpg's socket, NATS). On this code's bare grpc.aio echo it
answers ~1.25x the calls per second of asyncio's own loop for ~0.8x the CPU per call (bench/README.md).
`ATHENAEUM_EVENT_LOOP=asyncio` goes back to the standard library's loop (to compare, or to rule it out).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, Literal, TypeVar

T = TypeVar("T")

EventLoop = Literal["uvloop", "asyncio"]


def run_on(loop: EventLoop, main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run(main) on the loop named."""
    if loop == "uvloop":
        import uvloop  # only where asked for: tools and tests run on whatever loop they already have

        return uvloop.run(main)
    return asyncio.run(main)
