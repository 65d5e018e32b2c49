"""The tests' own set-up calls are asked again when the mesh turns them away for a moment (429, 503 with
Retry-After), a few times within a few seconds; a write only when the service acts on it once (a request_id), and
a call under test never. Against a stand-in edge (httpx's MockTransport): no mesh needed."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import httpx
import pytest
from circulation import new_book
from conftest import register, sign_in
from setup_calls import TRIES, WITHIN_SECONDS, SetUpRetries, set_up

pytestmark = pytest.mark.e2e
SHED = httpx.Response(429, headers={"retry-after": "0"}, json={"code": 8, "message": "shed"})
AWAY = httpx.Response(
    503,
    json={
        "code": 14,
        "message": "the catalog service is unavailable; retry later (with the same request_id)",
        "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retry_delay": "0.01s"}],
    },
)
SIGNED_IN = {"user": {"name": "users/ada"}, "tokens": {"access_token": "a", "refresh_token": "r"}}


class StandIn:
    """An edge answering each call with the next of `answers` (then 200 with `body`), recording the calls."""

    def __init__(self, *answers: httpx.Response, body: Callable[[httpx.Request], dict] = lambda _: SIGNED_IN):
        self.answers = list(answers)
        self.calls: list[httpx.Request] = []
        self._body = body

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        if self.answers:
            answer = self.answers.pop(0)
            return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)
        return httpx.Response(200, json=self._body(request))


def _edge(stand_in: StandIn) -> httpx.Client:
    return httpx.Client(base_url="http://edge", transport=httpx.MockTransport(stand_in))


def test_signing_in_and_registering_for_a_test_are_asked_again_when_shed_or_a_peer_is_away() -> None:
    stand_in = StandIn(SHED, AWAY)
    assert sign_in(_edge(stand_in), "ada@example.org", "Correct-Horse-42").name == "users/ada"
    assert len(stand_in.calls) == 3
    stand_in = StandIn(AWAY)
    register(_edge(stand_in))
    first, again = (json.loads(call.content) for call in stand_in.calls)
    assert first["request_id"] and again == first  # the service acts on it once


def test_a_book_and_its_copies_made_for_a_test_are_asked_again_with_the_same_request_id() -> None:
    stand_in = StandIn(AWAY, httpx.Response(200, json={"name": "books/b1"}), SHED, body=lambda _: {"name": "books/b1"})
    staff = type("Staff", (), {"headers": {}})()
    book, barcodes = new_book(_edge(stand_in), staff, copies=1)
    assert book == "books/b1" and len(barcodes) == 1
    made, made_again, copy, copy_again = stand_in.calls
    assert made.url.params["request_id"] == made_again.url.params["request_id"]
    assert copy.url.params["request_id"] == copy_again.url.params["request_id"] != made.url.params["request_id"]


def test_a_set_up_call_turned_away_every_time_is_answered_as_it_came_within_the_bound() -> None:
    stand_in = StandIn(*[AWAY] * 10)
    started = time.monotonic()
    answer = set_up(lambda: _edge(stand_in).get("/v1/books/b1"))
    assert answer.status_code == 503 and "catalog" in answer.json()["message"]
    assert len(stand_in.calls) == TRIES and time.monotonic() - started < WITHIN_SECONDS


def test_a_set_up_write_without_a_request_id_is_not_asked_again() -> None:
    stand_in = StandIn(AWAY)
    with pytest.raises(AssertionError, match="request_id"):
        set_up(lambda: _edge(stand_in).post("/v1/books", json={"title": "Twice?"}))
    assert len(stand_in.calls) == 1


def test_the_set_up_client_asks_reads_and_writes_with_a_request_id_again_and_no_other_write() -> None:
    async def calls() -> list[int]:
        done = httpx.Response(200, json=SIGNED_IN)
        stand_in = StandIn(SHED, done, AWAY, AWAY, done, AWAY)
        inner = httpx.MockTransport(stand_in)
        async with httpx.AsyncClient(base_url="http://edge", transport=SetUpRetries(inner)) as rest:
            read = await rest.get("/v1/users/me")
            once = await rest.post("/v1/loans:issue", json={"patron": "users/ada", "request_id": "r-1"})
            under_test = await rest.post("/v1/loans:return", json={"barcode": "39"})
        assert (read.status_code, once.status_code, under_test.status_code) == (200, 200, 503)
        return [len(stand_in.calls)]

    assert asyncio.run(calls()) == [2 + 3 + 1]
