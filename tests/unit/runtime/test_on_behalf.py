"""Whose doing an RPC is, for the audit trail: the signed-in caller, else the user a peer's call names (only a
peer's: finding A10); and the peer calls made meanwhile name them in turn."""

from __future__ import annotations

import asyncio
import contextvars
from datetime import UTC, datetime, timedelta

import grpc

from services.support.runtime.callers import current_caller, read_metadata
from services.support.runtime.identity import (
    EDGE_CALLER,
    ON_BEHALF_HEADER,
    Identity,
    Role,
    set_current_identity,
    set_on_behalf,
    spiffe_id,
)
from services.support.runtime.messaging import ACTOR_HEADER
from services.support.runtime.on_behalf import OnBehalfInterceptor
from services.support.runtime.outbox import actor_header

USER = "users/3f6d2a4e-0b7c-4c1e-9a55-6a0c2f1d9e01"
LOANS = spiffe_id("loans")


def _actor(raw: str, *, caller: str) -> str:
    def served() -> str:
        set_current_identity(None)
        current_caller.set(caller)
        set_on_behalf(raw, caller=caller)
        return actor_header().get(ACTOR_HEADER, "")

    return contextvars.copy_context().run(served)


def test_only_a_peer_names_the_user_it_calls_for_and_only_by_a_users_name() -> None:
    assert _actor(USER, caller=LOANS) == USER
    assert _actor(USER, caller=EDGE_CALLER) == "anonymous"
    assert _actor(USER, caller="") == ""
    assert _actor("users/me", caller=LOANS) == _actor("services/catalog", caller=LOANS) == ""


def test_the_header_is_read_only_from_behind_the_sidecar() -> None:
    metadata = ((ON_BEHALF_HEADER, USER),)
    assert read_metadata(metadata, trusted=True)[4] == USER
    assert read_metadata(metadata, trusted=False)[4] == ""


def test_a_peer_call_made_while_serving_a_user_names_them_and_one_of_a_background_job_nobody() -> None:
    async def sent(user: str | None) -> object:
        async def continuation(details: grpc.aio.ClientCallDetails, request: object) -> object:
            return details.metadata

        if user is not None:
            expires = datetime.now(UTC) + timedelta(minutes=5)
            set_current_identity(Identity(subject=user, role=Role.LIBRARIAN, session_id="s", expires_at=expires))
        details = grpc.aio.ClientCallDetails("/x/Y", None, grpc.aio.Metadata(("a", "b")), None, None)
        return await OnBehalfInterceptor().intercept_unary_unary(continuation, details, object())

    named = contextvars.copy_context().run(asyncio.run, sent(USER))
    assert list(named) == [("a", "b"), (ON_BEHALF_HEADER, USER)]
    assert list(contextvars.copy_context().run(asyncio.run, sent(None))) == [("a", "b")]
