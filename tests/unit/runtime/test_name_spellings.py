"""One resource, one name: every spelling of a UUID a parser takes compares equal once taken in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from athenaeum.loans.v1 import loans_pb2
from athenaeum.users.v1 import users_pb2
from services.events.domain.query import build_query, parse_filter
from services.support.runtime.access import api_service_names, policy_for
from services.support.runtime.errors import PermissionDenied
from services.support.runtime.identity import Identity, Role, authorize
from services.support.runtime.names import canonical_name, check_reference

ID = uuid.UUID("5bdb4b35-8ef0-4728-ac83-300dc71c5e7f")
OWN = f"users/{ID}"
SPELLINGS = [
    f"users/{str(ID).upper()}",
    f"users/{ID.hex}",
    f"users/{ID.hex.upper()}",
    f"users/urn:uuid:{ID}",
    f"users/{{{ID}}}",
]
POLICY = policy_for(api_service_names())


def _reader() -> Identity:
    return Identity(subject=OWN, role=Role.READER, session_id="s1", expires_at=datetime.now(UTC) + timedelta(minutes=5))


@pytest.mark.parametrize("spelled", SPELLINGS)
def test_every_spelling_of_an_id_is_written_the_canonical_way(spelled: str) -> None:
    assert canonical_name(spelled) == OWN
    assert canonical_name(f"books/{spelled[6:]}/copies/{spelled[6:]}") == f"books/{ID}/copies/{ID}"


@pytest.mark.parametrize("other", [OWN, "users/me", "users/nope", "", "users", "books/x/copies/EFG"])
def test_names_without_a_non_canonical_uuid_are_left_as_they_are(other: str) -> None:
    assert canonical_name(other) == other


@pytest.mark.parametrize("spelled", [s for s in SPELLINGS if ":" not in s and "{" not in s])
def test_a_reference_to_another_services_resource_comes_back_canonical(spelled: str) -> None:
    assert check_reference(spelled, "users", field="patron") == OWN


@pytest.mark.parametrize("spelled", SPELLINGS)
def test_a_reader_reaches_their_own_records_by_any_spelling_of_their_id(spelled: str) -> None:
    for method, request in (
        ("/athenaeum.users.v1.UsersService/GetUser", users_pb2.GetUserRequest(name=spelled)),
        ("/athenaeum.loans.v1.LoansService/ListLoans", loans_pb2.ListLoansRequest(parent=spelled)),
    ):
        authorize(POLICY[method], identity=_reader(), caller="", request=request)  # no PermissionDenied


def test_another_readers_id_in_upper_case_is_still_another_reader() -> None:
    other = f"users/{str(uuid.uuid4()).upper()}"
    with pytest.raises(PermissionDenied):
        authorize(
            POLICY["/athenaeum.users.v1.UsersService/GetUser"],
            identity=_reader(),
            caller="",
            request=users_pb2.GetUserRequest(name=other),
        )


@pytest.mark.parametrize("spelled", SPELLINGS)
def test_an_event_query_finds_a_resource_by_any_spelling(spelled: str) -> None:
    query = build_query(subject=spelled, actor=spelled, filter=f'resource = "{spelled}" AND subject != "{spelled}"')
    assert {condition.value for condition in query.conditions} == {OWN}


def test_a_prefix_filter_is_taken_as_typed() -> None:
    (condition,) = parse_filter(f'resource = "users/{str(ID).upper()[:8]}*"')
    assert condition.prefix and condition.value == f"users/{str(ID).upper()[:8]}"
