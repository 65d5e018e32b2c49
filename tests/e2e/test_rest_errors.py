"""One error format at the edge: what Envoy answers by itself is google.rpc.Status JSON too, and CORS.

Each class of error the edge makes on its own (no service involved) is provoked for real through the
session's mesh; the classes a mesh cannot be made to produce on demand without changing it (413, 429)
are covered by tests/integration/mesh/test_edge_local_replies.py with the same configuration.
"""

from __future__ import annotations

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from athenaeum.users.v1 import users_pb2, users_pb2_grpc

pytestmark = pytest.mark.e2e

GRPC_CODES = {"INVALID_ARGUMENT": 3, "NOT_FOUND": 5, "PERMISSION_DENIED": 7, "UNAVAILABLE": 14, "UNAUTHENTICATED": 16}
DEADLINE_EXCEEDED = 4


def assert_status_json(response: httpx.Response, http_status: int, code: int) -> dict:
    """The response is a google.rpc.Status with this gRPC code, under the matching HTTP status."""
    assert response.status_code == http_status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"], body
    assert isinstance(body.get("details", []), list), body
    return body


MALFORMED = "MALFORMED_REQUEST"


@pytest.mark.parametrize(
    ("what", "method", "path", "kwargs", "http_status", "code", "reason"),
    [
        ("no route", "GET", "/v2/nothing-here", {}, 404, "NOT_FOUND", "NO_SUCH_ROUTE"),
        ("unknown query parameter", "GET", "/v1/books?colour=red", {}, 400, "INVALID_ARGUMENT", MALFORMED),
        ("malformed JSON", "POST", "/v1/auth/login", {"content": b'{"email": '}, 400, "INVALID_ARGUMENT", MALFORMED),
        ("wrong JSON type", "POST", "/v1/auth/login", {"json": {"email": 5}}, 400, "INVALID_ARGUMENT", MALFORMED),
        ("not a JSON object", "POST", "/v1/auth/login", {"json": [1, 2]}, 400, "INVALID_ARGUMENT", MALFORMED),
        ("out of range", "GET", "/v1/books?page_size=99999999999", {}, 400, "INVALID_ARGUMENT", MALFORMED),
        (
            "unknown enum name",
            "GET",
            "/v1/loans?status=LOAN_STATUS_LOST_IN_SPACE",
            {},
            400,
            "INVALID_ARGUMENT",
            MALFORMED,
        ),
        ("password in the query", "GET", "/v1/books?password=x", {}, 400, "INVALID_ARGUMENT", MALFORMED),
        ("path field in the query", "GET", "/v1/books/b1?name=books/b2", {}, 400, "INVALID_ARGUMENT", MALFORMED),
        (
            "body field in the query",
            "POST",
            "/v1/itemTypes?item_type.not_for_loan=true",
            {"json": {"code": "QRY"}},
            400,
            "INVALID_ARGUMENT",
            MALFORMED,
        ),
        ("parameter given twice", "GET", "/v1/books?page_size=1&page_size=2", {}, 400, "INVALID_ARGUMENT", MALFORMED),
        (
            "malformed token",
            "GET",
            "/v1/books",
            {"headers": {"authorization": "Bearer not-a-jwt"}},
            401,
            "UNAUTHENTICATED",
            "TOKEN_INVALID",
        ),
    ],
)
def test_an_error_the_edge_makes_itself_is_a_status_json_with_its_reason(
    edge: httpx.Client, what: str, method: str, path: str, kwargs: dict, http_status: int, code: str, reason: str
) -> None:
    body = assert_status_json(edge.request(method, path, **kwargs), http_status, GRPC_CODES[code])
    assert [(d["@type"], d["reason"], d["domain"]) for d in body["details"]] == [
        ("type.googleapis.com/google.rpc.ErrorInfo", reason, "athenaeum.library")
    ], body


def test_an_expired_or_foreign_token_is_a_401_status(edge: httpx.Client, reader) -> None:
    header, payload, _ = reader.access_token.split(".")
    tampered = f"{header}.{payload}.c2lnbmF0dXJl"
    response = edge.get("/v1/users/me", headers={"authorization": f"Bearer {tampered}"})
    assert_status_json(response, 401, GRPC_CODES["UNAUTHENTICATED"])


def test_a_service_refusal_keeps_its_own_status_and_details(edge: httpx.Client, reader) -> None:
    body = assert_status_json(edge.get("/v1/users", headers=reader.headers), 403, GRPC_CODES["PERMISSION_DENIED"])
    assert body["details"] and body["details"][0]["@type"].endswith("google.rpc.ErrorInfo")


def test_a_deadline_the_service_cannot_meet_is_a_504_status(edge: httpx.Client) -> None:
    # A client may bound a REST call with gRPC's own timeout header; one nanosecond always passes first.
    response = edge.get("/v1/books:search", params={"query": "tolstoy"}, headers={"grpc-timeout": "1n"})
    assert_status_json(response, 504, DEADLINE_EXCEEDED)


def test_a_service_whose_sidecar_is_down_is_a_503_status(mesh, edge: httpx.Client, admin) -> None:
    # The events service owns no state another test reads; its sidecar stands in for any unreachable one.
    # Its answer is the one a service down behind its sidecar gets, not Envoy's account of its connections.
    sidecar = mesh.process("events-sidecar")
    sidecar.stop()
    try:
        response = edge.get("/v1/events", headers=admin.headers)
        with grpc.insecure_channel(mesh.edge_grpc_target) as channel, pytest.raises(grpc.RpcError) as refused:
            channel.unary_unary("/athenaeum.events.v1.EventsService/ListEvents")(
                b"", metadata=admin.metadata, timeout=10
            )
    finally:
        sidecar.start()
        mesh.wait_ready("events-sidecar")
    body = assert_status_json(response, 503, GRPC_CODES["UNAVAILABLE"])
    assert body["message"] == "the events service is unavailable for a moment; retry later", body
    assert [d["@type"].rsplit(".", 1)[-1] for d in body["details"]] == ["ErrorInfo", "RetryInfo"], body
    status = rpc_status.from_call(refused.value)
    assert status is not None and status.message == "the events service is unavailable for a moment; retry later"


def test_a_service_that_is_down_behind_its_live_sidecar_is_a_503_upstream_unavailable(
    mesh, edge: httpx.Client, admin
) -> None:
    """README: a service that cannot be reached is 503 UNAVAILABLE UPSTREAM_UNAVAILABLE, whichever part is down."""
    service = mesh.process("events")
    service.stop()
    try:
        response = edge.get("/v1/events", headers=admin.headers)
        with grpc.insecure_channel(mesh.edge_grpc_target) as channel, pytest.raises(grpc.RpcError) as refused:
            channel.unary_unary("/athenaeum.events.v1.EventsService/ListEvents")(
                b"", metadata=admin.metadata, timeout=10
            )
    finally:
        service.start()
        mesh.wait_ready("events")
    body = assert_status_json(response, 503, GRPC_CODES["UNAVAILABLE"])
    assert body["message"] == "the events service is unavailable for a moment; retry later", body
    assert [(d["@type"].rsplit(".", 1)[-1], d.get("reason")) for d in body["details"]] == [
        ("ErrorInfo", "UPSTREAM_UNAVAILABLE"),
        ("RetryInfo", None),
    ], body
    status = rpc_status.from_call(refused.value)
    info = error_details_pb2.ErrorInfo()
    assert status is not None and status.details[0].Unpack(info) and info.reason == "UPSTREAM_UNAVAILABLE"


def test_grpc_callers_still_get_plain_grpc_statuses(mesh) -> None:
    with grpc.insecure_channel(mesh.edge_grpc_target) as channel:
        stub = users_pb2_grpc.UsersServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            request = users_pb2.GetUserRequest(name="users/me")
            stub.GetUser(request, metadata=(("authorization", "Bearer x"),), timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert not refused.value.details().startswith("{"), "a gRPC caller must not get a JSON message"
    status = rpc_status.from_call(refused.value)  # refuses details whose code or message differ from the call's
    assert status is not None, "the edge's refusal carries grpc-status-details-bin"
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info) and info.reason == "TOKEN_INVALID"


# CORS --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def allowed_origin(mesh) -> str:
    (origin,) = mesh.topology.cors_origins
    return origin


def test_a_preflight_from_an_allowed_origin_is_answered(edge: httpx.Client, allowed_origin: str) -> None:
    response = edge.options(
        "/v1/books",
        headers={
            "origin": allowed_origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == allowed_origin
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"]


def test_a_preflight_from_another_origin_is_not_allowed(edge: httpx.Client) -> None:
    response = edge.options(
        "/v1/books", headers={"origin": "https://evil.example", "access-control-request-method": "POST"}
    )
    assert "access-control-allow-origin" not in response.headers
    assert_status_json(response, 404, GRPC_CODES["NOT_FOUND"])


def test_answers_and_errors_carry_the_cors_headers_for_an_allowed_origin(
    edge: httpx.Client, allowed_origin: str
) -> None:
    listed = edge.get("/v1/books", params={"page_size": 1}, headers={"origin": allowed_origin})
    refused = edge.get("/v1/users/me", headers={"origin": allowed_origin})
    assert listed.status_code == 200 and refused.status_code == 401
    for response in (listed, refused):
        assert response.headers["access-control-allow-origin"] == allowed_origin
        assert "grpc-status" in response.headers["access-control-expose-headers"]
    other = edge.get("/v1/books", params={"page_size": 1}, headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/v1/users/me?update_mask=email&current_password=Correct-Horse-42"),
        ("PATCH", "/v1/users/me?current_password=Correct-Horse-42&update_mask=email"),
        ("POST", "/v1/auth/login?password=Correct-Horse-42"),
        ("PATCH", "/v1/users/me?update_mask=email&currentPassword=Correct-Horse-42"),
        ("PATCH", "/v1/users/me?update_mask=email&current_pass%77ord=Correct-Horse-42"),
    ],
)
def test_a_password_in_a_query_string_is_refused_before_any_service_reads_it(
    edge: httpx.Client, reader, method: str, path: str
) -> None:
    """URLs land in proxies' and browsers' logs: the email change with `current_password` in its query string
    went through. The password is not echoed back."""
    body = {"email": "moved@example.org"} if method == "PATCH" else {"email": reader.email, "password": "x"}
    response = edge.request(method, path, json=body, headers=reader.headers)
    status = assert_status_json(response, 400, GRPC_CODES["INVALID_ARGUMENT"])
    assert "query string" in status["message"] and "Correct-Horse" not in response.text
    assert edge.get("/v1/users/me", headers=reader.headers).json()["email"] == reader.email


def test_a_query_parameter_that_only_mentions_a_password_is_no_password(edge: httpx.Client, reader) -> None:
    response = edge.get("/v1/books", params={"filter": 'publisher = "password=1"'}, headers=reader.headers)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("timeout", ["5", "-1S", "1x", "999999999S"])
def test_a_rest_call_s_malformed_grpc_timeout_is_a_400(edge: httpx.Client, timeout: str) -> None:
    """The service's gRPC stack failed such a call as INTERNAL (a 500, and the 5xx alert with it)."""
    response = edge.get("/v1/books", params={"page_size": 1}, headers={"grpc-timeout": timeout})
    assert_status_json(response, 400, GRPC_CODES["INVALID_ARGUMENT"])
    assert edge.get("/v1/books", params={"page_size": 1}, headers={"grpc-timeout": "5S"}).status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/v1/users/nope/loans", "/v1/users/-/loans", "/v1/users/ME/holds", "/v1/users/nope/fines",
     "/v1/loans?book=garbage", "/v1/holds?book=books/x"],
)  # fmt: skip
def test_a_malformed_patron_or_book_in_a_circulation_list_is_a_400(edge: httpx.Client, librarian, path: str) -> None:
    """They answered an empty page, as if that patron had no loans (the proto promises INVALID_ARGUMENT)."""
    response = edge.get(path, headers=librarian.headers)
    body = assert_status_json(response, 400, GRPC_CODES["INVALID_ARGUMENT"])
    assert "UUID" in body["message"], body
    assert edge.get("/v1/users/me/loans", headers=librarian.headers).status_code == 200
