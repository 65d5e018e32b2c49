"""The argon2id hasher: real hashes, the documented parameters, and which hashes need upgrading."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

from services.users.data.passwords import Argon2Passwords

CHEAP = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}  # speed, not safety


async def test_passwords_are_argon2id_hashes_that_verify_only_the_right_password() -> None:
    passwords = Argon2Passwords(**CHEAP)
    stored = await passwords.hash("Correct-Horse-42")
    assert stored.startswith("$argon2id$")
    assert await passwords.verify(stored, "Correct-Horse-42")
    assert not await passwords.verify(stored, "correct-horse-42")
    assert not await passwords.verify("", "Correct-Horse-42")  # no hash: the decoy runs, and fails


def test_the_production_parameters_are_the_documented_ones() -> None:
    stored = Argon2Passwords()._hasher.hash("x")
    assert "$m=19456,t=2,p=1$" in stored


def test_a_hash_made_with_other_parameters_needs_upgrading() -> None:
    current, weaker = Argon2Passwords(), Argon2Passwords(**CHEAP)
    assert current.needs_rehash(weaker._hasher.hash("Correct-Horse-42"))
    assert not current.needs_rehash(current._hasher.hash("Correct-Horse-42"))


async def test_hashing_runs_in_worker_threads_no_more_at_once_than_the_slots() -> None:
    passwords = Argon2Passwords(**CHEAP, concurrency=2)
    inside: list[int] = []
    two_inside, release = asyncio.Event(), threading.Event()
    loop = asyncio.get_running_loop()

    def blocking_hash(password: str) -> str:
        inside.append(threading.get_ident())
        if len(inside) == 2:
            loop.call_soon_threadsafe(two_inside.set)
        release.wait(timeout=30)
        return f"hash of {password}"

    passwords._hasher = SimpleNamespace(hash=blocking_hash)  # type: ignore[assignment]
    hashes = [asyncio.create_task(passwords.hash(f"p{n}")) for n in range(3)]
    try:
        await two_inside.wait()  # the event loop stays free while two hashes run
        await asyncio.sleep(0.05)  # a third hash would start now if nothing held it back
        assert len(inside) == 2 and threading.get_ident() not in inside
    finally:
        release.set()
    assert await asyncio.gather(*hashes) == ["hash of p0", "hash of p1", "hash of p2"]


async def test_every_hash_and_verification_reports_that_it_finished_even_when_it_fails() -> None:
    finished: list[int] = []
    passwords = Argon2Passwords(**CHEAP, finished=lambda: finished.append(1))
    stored = await passwords.hash("Correct-Horse-42")
    await passwords.verify(stored, "wrong")
    await passwords.verify("not an argon2 hash", "Correct-Horse-42")
    assert len(finished) == 3
