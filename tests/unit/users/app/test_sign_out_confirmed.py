"""A sign-out answers "done" only once the other services can know of it (its revocation is on the bus)."""

from __future__ import annotations

import pytest

from services.support.runtime.errors import DependencyUnavailable, Unauthenticated
from services.support.runtime.identity import Role
from services.users.app import signing_in
from services.users.domain.profile import Profile
from services.users.domain.sessions import SessionRevoked

from ..conftest import LIFETIMES

PASSWORD = "Correct-Horse-42"


async def test_a_sign_out_the_bus_cannot_take_is_saved_and_answered_unavailable_until_sent_again(
    db, clock, passwords, keys
) -> None:
    auth = {"clock": clock, "passwords": passwords, "keys": keys, "lifetimes": LIFETIMES}
    command = signing_in.Register(Profile(email="ada@example.org", role=Role.READER), PASSWORD)
    registered = await signing_in.register(command, uow=db.unit_of_work(), **auth)
    sign_out = signing_in.SignOut(registered.refresh_token)
    db.bus_reachable = False
    with pytest.raises(DependencyUnavailable, match="send the sign-out again"):
        await signing_in.sign_out(sign_out, uow=db.unit_of_work(), clock=clock)
    (session,) = db.sessions.values()
    assert session.revoke_reason == "logout"  # saved all the same: the refresh token is spent
    with pytest.raises(Unauthenticated):
        await signing_in.refresh_session(
            signing_in.RefreshSession(registered.refresh_token), uow=db.unit_of_work(), clock=clock, keys=keys,
            lifetimes=LIFETIMES,
        )  # fmt: skip
    db.bus_reachable = True
    await signing_in.sign_out(sign_out, uow=db.unit_of_work(), clock=clock)  # sent again: confirmed
    assert [type(event) for event in db.published].count(SessionRevoked) == 1
