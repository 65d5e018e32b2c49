"""Admission: calls from the edge beyond what the process can serve soon are refused at once, told when
to come back, and the limit follows how long the admitted calls take."""

from __future__ import annotations

import asyncio

import pytest

from services.support.runtime.admission import WINDOW, Admission
from services.support.runtime.errors import Throttled


def full(most: int = 2, *, target: float = 0.5) -> Admission:
    return Admission(most=most, wait=0.0, target=target)


async def test_calls_up_to_the_limit_run_and_the_next_is_refused_with_when_to_come_back() -> None:
    admission = full(2)
    first, second = await admission.enter("/s/M"), await admission.enter("/s/M")
    async with first, second:
        with pytest.raises(Throttled) as refused:
            await admission.enter("/s/M")
    assert refused.value.reason == "OVERLOADED" and refused.value.retry_after == 1.0
    async with await admission.enter("/s/M"):  # the slots came back
        pass


async def test_a_freed_slot_goes_to_the_call_waiting_longest() -> None:
    admission = Admission(most=1, wait=60.0, target=0.5)
    held = await admission.enter("/s/M")
    order: list[str] = []

    async def waiter(name: str) -> None:
        async with await admission.enter("/s/M"):
            order.append(name)

    waiting = [asyncio.create_task(waiter(name)) for name in ("older", "newer")]
    await asyncio.sleep(0)  # both queue up
    async with held:
        pass
    await asyncio.gather(*waiting)
    assert order == ["older", "newer"]


def test_slow_calls_shrink_the_limit_and_quick_busy_ones_grow_it() -> None:
    admission = full(32, target=0.5)
    for _ in range(WINDOW):
        admission._release_after(1.0)
    assert admission.limit == 24
    admission._saturated = True
    for _ in range(WINDOW):
        admission._release_after(0.1)
    assert admission.limit == 25


def test_the_more_are_refused_per_call_let_in_the_later_they_are_told_to_come_back() -> None:
    admission = full(4)
    admission._shed = 3 * WINDOW  # three refused for each call let in
    for _ in range(WINDOW):
        admission._release_after(0.1)
    assert admission.retry_after == 3.0
    for _ in range(WINDOW):  # nobody refused any more
        admission._release_after(0.1)
    assert admission.retry_after == 1.0
