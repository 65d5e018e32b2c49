"""The Python client against the live edge: the README examples run as written, in this project's venv
(where ./athenaeum installs the client), and the session renews its token by itself."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from athenaeum_client import ApiError, AsyncClient, Client, PermissionDenied, Unauthenticated, catalog, events, users

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
READMES = (ROOT / "clients/python/README.md", ROOT / "README.md")
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def examples() -> list[pytest.param]:
    found = []
    for readme in READMES:
        for number, code in enumerate(PYTHON_BLOCK.findall(readme.read_text()), start=1):
            found.append(pytest.param(code, id=f"{readme.relative_to(ROOT)}#{number}"))
    return found


@pytest.mark.parametrize("code", examples())
def test_a_readme_example_runs_against_the_live_edge(mesh, admin, code: str) -> None:
    # The examples sign in as the dev mesh's bootstrap admin (`admin` makes sure the edge accepts tokens).
    env = {**os.environ, "ATHENAEUM_EDGE": mesh.edge_grpc_target}
    result = subprocess.run(
        [sys.executable, "-B", "-c", code], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), "an example shows what it did"


def test_calls_renew_an_access_token_about_to_expire(mesh, librarian) -> None:
    with Client(mesh.edge_grpc_target, timeout=10) as client:
        client.sign_in(librarian.email, librarian.password)
        first_refresh_token = client.tokens.refresh_token
        expiry = client.tokens.access_token_expire_time
        assert expiry is not None
        client.tokens.access_token_expire_time = expiry.replace(year=expiry.year - 1)  # "expires any moment"

        me = client.users.get_user(users.GetUserRequest(name="users/me"))

        assert me.email == librarian.email
        assert client.tokens.refresh_token != first_refresh_token
        assert client.tokens.access_token_expire_time is not None
        assert client.tokens.access_token_expire_time > expiry


def test_a_session_ended_elsewhere_is_forgotten_and_the_client_goes_on(mesh, librarian) -> None:
    """Once its refresh token was refused, every call (public ones too) and sign_out() failed for ever."""
    with Client(mesh.edge_grpc_target, timeout=10) as ended_elsewhere, Client(mesh.edge_grpc_target) as client:
        client.sign_in(librarian.email, librarian.password)
        ended_elsewhere.tokens.refresh_token = client.tokens.refresh_token
        ended_elsewhere.sign_out()  # the same session, signed out from another device
        expiry = client.tokens.access_token_expire_time
        assert expiry is not None
        client.tokens.access_token_expire_time = expiry.replace(year=expiry.year - 1)  # "expires any moment"

        with pytest.raises(Unauthenticated):
            client.users.get_user(users.GetUserRequest(name="users/me"))

        assert client.tokens.access_token == "" and client.tokens.refresh_token == ""
        assert client.catalog.list_books(catalog.ListBooksRequest(page_size=1)) is not None  # public: anonymous
        client.sign_out()  # nothing left to end: no error


def test_a_session_ended_elsewhere_is_noticed_at_the_next_refusal_and_public_calls_go_on(
    mesh, edge, librarian, wait_for_status
) -> None:
    """Refused before its token's time, the session was neither renewed nor forgotten: every call, public ones
    too, failed Unauthenticated until the token neared expiry (up to 15 minutes)."""
    with Client(mesh.edge_grpc_target, timeout=10) as client, Client(mesh.edge_grpc_target) as elsewhere:
        client.sign_in(librarian.email, librarian.password)
        elsewhere.auth.logout(users.LogoutRequest(refresh_token=client.tokens.refresh_token))
        wait_for_status(edge, "/v1/users/me", client.tokens.access_token, 401)  # the revocation has arrived

        assert client.catalog.list_books(catalog.ListBooksRequest(page_size=1)) is not None  # anonymously

        assert client.tokens.access_token == "" and client.tokens.refresh_token == ""
        with pytest.raises(Unauthenticated):
            client.users.get_user(users.GetUserRequest(name="users/me"))


def test_a_refused_access_token_is_renewed_once_and_the_call_made_again(mesh, librarian) -> None:
    with Client(mesh.edge_grpc_target, timeout=10) as client:
        client.sign_in(librarian.email, librarian.password)
        first_refresh_token = client.tokens.refresh_token
        client.tokens.access_token = "not-a-token"  # refused by the edge, as a revoked one is by the services

        me = client.users.get_user(users.GetUserRequest(name="users/me"))

        assert me.email == librarian.email
        assert client.tokens.refresh_token not in ("", first_refresh_token)


async def test_the_async_client_renews_a_refused_token_and_forgets_an_ended_session(mesh, librarian) -> None:
    async with AsyncClient(mesh.edge_grpc_target, timeout=10) as client:
        await client.sign_in(librarian.email, librarian.password)
        client.tokens.access_token = "not-a-token"
        assert (await client.users.get_user(users.GetUserRequest(name="users/me"))).email == librarian.email

        await client.auth.logout(users.LogoutRequest(refresh_token=client.tokens.refresh_token))
        client.tokens.access_token = "not-a-token"  # and its refresh token is refused now
        assert await client.catalog.list_books(catalog.ListBooksRequest(page_size=1)) is not None
        assert client.tokens.access_token == "" and client.tokens.refresh_token == ""


def naive_event() -> events.Event:
    return events.Event(type="test.naive", occur_time=datetime(2026, 12, 1, 10))  # no time zone: no timestamp


def test_a_request_the_client_cannot_serialize_raises_the_callers_mistake_not_a_server_error(mesh, librarian) -> None:
    """grpc reported it as INTERNAL ("Exception serializing request!"), a server's error, and the cause was lost."""
    with Client(mesh.edge_grpc_target, timeout=10) as client:
        client.sign_in(librarian.email, librarian.password)
        with pytest.raises(ValueError, match="timezone") as refused:
            client.events.record_event(events.RecordEventRequest(event=naive_event()))
        assert isinstance(refused.value.__cause__, ValueError) and not isinstance(refused.value, ApiError)

        good = events.Event(type="test.naive", occur_time=datetime.now(UTC))
        batches = [events.StreamRecordEventsRequest(events=[event]) for event in (good, naive_event())]
        with pytest.raises(ValueError, match="timezone"):  # the first batch went; the stream ends at the second
            list(client.events.stream_record_events(batches))


async def test_the_async_client_raises_a_request_it_cannot_serialize_as_the_callers_mistake(mesh, librarian) -> None:
    """grpc.aio even made the call, which failed for want of a token: the mistake was never shown."""
    async with AsyncClient(mesh.edge_grpc_target, timeout=10) as client:
        with pytest.raises(ValueError, match="timezone") as refused:
            await client.events.record_event(events.RecordEventRequest(event=naive_event()))
        assert isinstance(refused.value.__cause__, ValueError) and not isinstance(refused.value, ApiError)

        await client.sign_in(librarian.email, librarian.password)
        batches = [events.StreamRecordEventsRequest(events=[naive_event()])]
        with pytest.raises(ValueError, match="timezone"):
            [ack async for ack in client.events.stream_record_events(batches)]


async def test_the_async_client_raises_errors_with_their_details(mesh, reader) -> None:
    async with AsyncClient(mesh.edge_grpc_target, timeout=10) as client:
        await client.sign_in(reader.email, reader.password)
        with pytest.raises(PermissionDenied) as refused:
            await client.users.list_users(users.ListUsersRequest(page_size=1))
    assert refused.value.reason and refused.value.error_info is not None
