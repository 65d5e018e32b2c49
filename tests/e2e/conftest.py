"""E2E fixtures: signed-in accounts of each role, through the real edge of the session's mesh.

    def test_something(edge, librarian, reader):
        edge.post("/v1/books", json=..., headers=librarian.headers)
        grpc_stub.CreateBook(request, metadata=librarian.metadata)

`admin` is the bootstrap admin of dev/test settings; `librarian` is created by it; `reader` registered
itself. Each is signed in once per session (and again when its access token nears its end: a loaded machine's
session outlives the 15 minutes it lives); `new_reader()` registers a fresh one for tests that change
or sign out their account.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import grpc
import httpx
import pytest
from setup_calls import REPEATABLE, set_up

from athenaeum.users.v1 import users_pb2, users_pb2_grpc
from services.users.settings import DEV_ADMIN_PASSWORD, UsersSettings

READY_TIMEOUT_SECONDS = 30.0
RENEW_AFTER_SECONDS = 600.0
"""The users service's access tokens live 15 minutes (its default). A session's staff accounts sign in again
when theirs is 10 minutes old: under load the web tier alone ran past 15, and every later setup call that
carried the session's librarian was refused TOKEN_EXPIRED."""
_SESSION_ACCOUNTS: list[tuple[httpx.Client, Account, list[float]]] = []


@dataclass(frozen=True)
class Account:
    """A signed-in user: their resource name, credentials and tokens."""

    name: str
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers for REST calls through the edge."""
        return {"authorization": f"Bearer {self.access_token}"}

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        """gRPC metadata for calls through the edge."""
        return (("authorization", f"Bearer {self.access_token}"),)


def unique_email(label: str = "reader") -> str:
    return f"{label}-{uuid.uuid4().hex[:12]}@example.org"


def sign_in(edge: httpx.Client, email: str, password: str) -> Account:
    """Signed in for a test's set-up: asked again while the mesh turns it away (another session is harmless)."""
    login = {"email": email, "password": password}
    response = set_up(lambda: edge.post("/v1/auth/login", json=login, extensions={REPEATABLE: True}))
    assert response.status_code == 200, response.text
    body = response.json()
    tokens = body["tokens"]
    return Account(body["user"]["name"], email, password, tokens["access_token"], tokens["refresh_token"])


def register(edge: httpx.Client, *, email: str | None = None, password: str = "Correct-Horse-42") -> Account:
    email = email or unique_email()
    body = {"email": email, "password": password, "display_name": "Reader", "request_id": str(uuid.uuid4())}
    response = set_up(lambda: edge.post("/v1/auth/register", json=body))
    assert response.status_code == 200, response.text
    body = response.json()
    tokens = body["tokens"]
    return Account(body["user"]["name"], email, password, tokens["access_token"], tokens["refresh_token"])


@pytest.fixture(autouse=True)
def peers_in_sight(request: pytest.FixtureRequest) -> None:
    """Each test on the session's mesh starts with every peer in sight of the edge and every sidecar. A test
    that restarts a process waits until its own calls get through again, but another sidecar may hold the peer
    out until its next health check: the next test's first call through it would fail for no fault of its own."""
    if "mesh" in request.fixturenames:
        request.getfixturevalue("mesh").wait_peers_in_sight(timeout=60)


@pytest.fixture(scope="session")
def edge(mesh) -> Iterator[httpx.Client]:
    """An HTTP client for the mesh's public REST edge."""
    with httpx.Client(base_url=mesh.edge_url, timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def admin(edge: httpx.Client) -> Account:
    """The bootstrap admin, once the edge verifies tokens (it fetches the JWKS as it starts)."""
    account = sign_in(edge, UsersSettings().bootstrap_admin_email, DEV_ADMIN_PASSWORD)
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while (status := set_up(lambda: edge.get("/v1/users/me", headers=account.headers)).status_code) == 401:
        assert time.monotonic() < deadline, "the edge never accepted a fresh access token (JWKS not fetched?)"
        time.sleep(0.1)
    assert status == 200
    return _kept_fresh(edge, account)


def create_account(mesh, creator: Account, *, role: int, password: str, label: str) -> str:
    """An account made by staff over gRPC (over REST the password would travel in the query string)."""
    email = unique_email(label)
    user = users_pb2.User(email=email, display_name=label.title(), role=role, patron_category="STAFF")
    with grpc.insecure_channel(mesh.edge_grpc_target) as channel:
        users_pb2_grpc.UsersServiceStub(channel).CreateUser(
            users_pb2.CreateUserRequest(user=user, password=password), metadata=creator.metadata, timeout=10
        )
    return email


@pytest.fixture(scope="session")
def librarian(mesh, edge: httpx.Client, admin: Account) -> Account:
    """A librarian account created by the admin."""
    password = "Desk-Duty-2024"
    email = create_account(mesh, admin, role=users_pb2.USER_ROLE_LIBRARIAN, password=password, label="librarian")
    return _kept_fresh(edge, sign_in(edge, email, password))


def _kept_fresh(edge: httpx.Client, account: Account) -> Account:
    _SESSION_ACCOUNTS.append((edge, account, [time.monotonic()]))
    return account


@pytest.fixture(autouse=True)
def fresh_session_tokens() -> None:
    """Before each test, the session's staff accounts whose access token is old sign in again; the Account
    object the fixtures handed out is updated in place, so that every holder of it carries the new token."""
    for edge, account, signed_in in _SESSION_ACCOUNTS:
        if time.monotonic() - signed_in[0] < RENEW_AFTER_SECONDS:
            continue
        renewed = sign_in(edge, account.email, account.password)
        object.__setattr__(account, "access_token", renewed.access_token)  # a frozen dataclass: in place on purpose
        object.__setattr__(account, "refresh_token", renewed.refresh_token)
        signed_in[0] = time.monotonic()


@pytest.fixture(scope="module")
def disposable_admin(mesh, edge: httpx.Client, admin: Account) -> Account:
    """An admin of the module's own, for tests that may change or deactivate the account they act as."""
    password = "Disposable-Admin-7"
    email = create_account(mesh, admin, role=users_pb2.USER_ROLE_ADMIN, password=password, label="admin")
    return sign_in(edge, email, password)


@pytest.fixture(scope="session")
def reader(edge: httpx.Client) -> Account:
    """A reader who registered themself (shared: don't sign it out or change it)."""
    return register(edge)


@pytest.fixture
def new_reader(edge: httpx.Client) -> Callable[[], Account]:
    """Registers a fresh reader each call."""
    return lambda: register(edge)


@pytest.fixture(name="unique_email")
def unique_email_fixture() -> Callable[[], str]:
    """A new, never-registered email address each call."""
    return unique_email


def _wait_for_status(edge: httpx.Client, path: str, access_token: str, status: int) -> None:
    """Poll until GET `path` with the token answers `status` (revocations reach services within ms)."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while (seen := edge.get(path, headers={"authorization": f"Bearer {access_token}"}).status_code) != status:
        assert time.monotonic() < deadline, f"GET {path} still answers {seen}, expected {status}"
        time.sleep(0.05)


@pytest.fixture
def wait_for_status() -> Callable[[httpx.Client, str, str, int], None]:
    """wait_for_status(edge, path, access_token, status): poll until the edge answers that status."""
    return _wait_for_status
