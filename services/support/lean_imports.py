"""Keeps nats-py from importing aiohttp into processes that never use it (~8 MiB of RSS each).

nats-py imports aiohttp, when it is installed, for a WebSocket transport we do not use (the mesh speaks
NATS over TCP). aiohttp is installed for the services that do use it (the SMS adapter, the local sinks), so
without this every service would carry it. The hook hides aiohttp only while `nats.aio.transport` itself is
being loaded, so nats falls back to "no WebSocket transport"; any later `import aiohttp` works as usual.
Installed by `services/__init__.py`, which runs before any module of ours can import nats.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

TRANSPORT = "nats.aio.transport"
HIDDEN = "aiohttp"


class _LoaderWithoutAiohttp(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        sys.modules[HIDDEN] = None  # type: ignore[assignment]  # None in sys.modules makes the import fail
        try:
            self._loader.exec_module(module)
        finally:
            if sys.modules.get(HIDDEN, ...) is None:
                del sys.modules[HIDDEN]


class _NatsWithoutAiohttp(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != TRANSPORT or HIDDEN in sys.modules:
            return None  # a process that already uses aiohttp gains nothing
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _LoaderWithoutAiohttp(spec.loader)
        return spec


def install() -> None:
    if not any(isinstance(finder, _NatsWithoutAiohttp) for finder in sys.meta_path):
        sys.meta_path.insert(0, _NatsWithoutAiohttp())
