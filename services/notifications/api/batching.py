"""Group commit: callers hand in one item each and wait; items that arrive while a batch is being stored go
together into the next one. Many concurrent events (or delivery outcomes) then share one transaction, and
a lone one is never kept waiting for company."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    def __init__(self, run: Callable[[list[T]], Awaitable[Sequence[R]]], *, max_size: int) -> None:
        self._run = run
        self._max_size = max_size
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """The result of `run` for this item, once the batch it joined is stored (or its error)."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain(), name="group-commit")
        return await future

    async def _drain(self) -> None:
        while self._pending:
            await asyncio.sleep(0)  # let the items that are being handed in right now join this batch
            batch, self._pending = self._pending[: self._max_size], self._pending[self._max_size :]
            try:
                results = await self._run([item for item, _ in batch])
            except Exception as error:  # every caller of the batch learns it failed; the next batch goes on
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
