"""The tests' own set-up calls through the edge (the accounts, books, copies and loans a test needs before it
tests anything), asked again when the mesh turns them away for a moment: 429 (a service's admission shedding
calls, the edge's rate limit) or 503 (a service, or a peer it calls, away for a moment), after the Retry-After
they carry. A loaded machine (a browser run beside another mesh) made set-up calls fail a test that had not
started yet.

Only set-up calls: reads, and writes that carry a `request_id` (the service acts once whatever the tries) or
that are harmless to repeat (`repeatable`, e.g. signing in). Three tries within five seconds at most; the last
answer is returned as it came, for the caller's assertion to show. A call under test goes through the plain
`edge` client and is never asked again: what it answers is what the test checks.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, Retrying, retry_if_result, stop_after_attempt

RETRIED_STATUSES = frozenset({429, 503})
TRIES = 3
WITHIN_SECONDS = 5.0
LONGEST_PAUSE = 2.0
"""A Retry-After of up to 15 s (a full service's) is cut to this: a set-up call takes its chance again sooner."""
PAUSE_WITHOUT_ADVICE = 0.5
REPEATABLE = "athenaeum.repeatable"
"""A request extension saying the write may be repeated though it carries no request_id (signing in again)."""


def may_repeat(request: httpx.Request) -> bool:
    """A read, a write that carries a request_id (in its query or its JSON body), or one marked repeatable."""
    if request.method in ("GET", "HEAD") or request.extensions.get(REPEATABLE) or "request_id" in request.url.params:
        return True
    try:
        body = json.loads(request.content or b"{}")
    except (ValueError, httpx.RequestNotRead):
        return False
    return isinstance(body, dict) and bool(body.get("request_id"))


def _turned_away(response: httpx.Response) -> bool:
    return response.status_code in RETRIED_STATUSES


def _pause(state: RetryCallState) -> float:
    """What the answer advised (Retry-After, or the Status's RetryInfo), within what is left of the budget."""
    response = state.outcome.result() if state.outcome is not None else None
    asked = _advised(response) if isinstance(response, httpx.Response) else None
    pause = min(asked if asked is not None else PAUSE_WITHOUT_ADVICE, LONGEST_PAUSE)
    return max(0.0, min(pause, WITHIN_SECONDS - state.seconds_since_start))


def _advised(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["retry-after"])
    except (KeyError, ValueError):
        pass
    try:
        details = response.json().get("details", [])
    except (ValueError, AttributeError):
        return None
    for detail in details if isinstance(details, list) else []:
        delay = detail.get("retry_delay") if isinstance(detail, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return float(delay[:-1])
            except ValueError:
                return None
    return None


def _out_of_budget(state: RetryCallState) -> bool:
    return stop_after_attempt(TRIES)(state) or state.seconds_since_start >= WITHIN_SECONDS


_POLICY: dict[str, Any] = {
    "retry": retry_if_result(_turned_away),
    "wait": _pause,
    "stop": _out_of_budget,
    "retry_error_callback": lambda state: state.outcome.result() if state.outcome is not None else None,
}


def _checked(response: httpx.Response) -> httpx.Response:
    if _turned_away(response) and not may_repeat(response.request):
        raise AssertionError(
            f"set-up {response.request.method} {response.request.url.path} is asked again only with a request_id "
            "(or marked repeatable): give it one"
        )
    return response


def set_up(call: Callable[[], httpx.Response]) -> httpx.Response:
    """`call`'s answer, asked again while it is 429 or 503 (see the module's docstring)."""
    answer: httpx.Response = Retrying(**_POLICY)(lambda: _checked(call()))
    return answer


async def set_up_async(call: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    """`call`'s answer, asked again while it is 429 or 503 (see the module's docstring)."""

    async def once() -> httpx.Response:
        return _checked(await call())

    answer: httpx.Response = await AsyncRetrying(**_POLICY)(once)
    return answer


_FRAMING = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class SetUpRetries(httpx.AsyncBaseTransport):
    """A client's transport for set-up calls only: each call that `may_repeat` is asked again while it is 429
    or 503; any other (a write without a request_id) goes once, as it would without it."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not may_repeat(request):
            return await self._inner.handle_async_request(request)

        async def once() -> httpx.Response:
            response = await self._inner.handle_async_request(request)
            if not _turned_away(response):
                return response
            try:  # read now, so that its advice can be read and its connection freed for the next try
                content = await response.aread()  # decoded: the copy below says it is plain
            finally:
                await response.aclose()
            headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _FRAMING]
            return httpx.Response(response.status_code, headers=headers, content=content, request=request)

        answer: httpx.Response = await AsyncRetrying(**_POLICY)(once)
        return answer

    async def aclose(self) -> None:
        await self._inner.aclose()
