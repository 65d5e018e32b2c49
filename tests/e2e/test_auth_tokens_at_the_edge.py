"""Access tokens at the real edge: only valid, live, unrevoked tokens of our issuer and audience pass."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from services.support.runtime.identity import ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER
from services.users.data.signing_keys import SqlSigningKeys
from services.users.settings import DEV_KEY_PASSPHRASE

pytestmark = pytest.mark.e2e

ME = "/v1/users/me"


@pytest.fixture(scope="module")
async def real_signing_key(mesh):
    """The users service's active key, read from its database: only to mint tokens the edge should refuse
    for reasons other than the signature."""
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(mesh.database_url("users"))
    try:
        store = SqlSigningKeys(engine, passphrase=DEV_KEY_PASSPHRASE.encode())
        return (await store.keyring()).signing_key(datetime.now(UTC))
    finally:
        await engine.dispose()


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _segments(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(header), decode(payload), signature


def _encode(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")


def _signed_by_a_stranger(claims: dict, kid: str) -> str:
    return jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": kid})


def _claims_like(token: str, **changes: object) -> dict:
    _, payload, _ = _segments(token)
    return {**payload, **changes}


def test_the_published_jwks_holds_the_key_that_signed_a_token(edge: httpx.Client, reader) -> None:
    jwks = edge.get("/.well-known/jwks.json")
    assert jwks.status_code == 200
    header, payload, _ = _segments(reader.access_token)
    keys = {key["kid"]: key for key in jwks.json()["keys"]}
    assert header["alg"] == "ES256" and keys[header["kid"]]["crv"] == "P-256"
    assert payload["iss"] == ACCESS_TOKEN_ISSUER and payload["aud"] == ACCESS_TOKEN_AUDIENCE
    assert payload["sub"] == reader.name and payload["role"] == "reader"
    assert edge.get("/v1/auth/jwks").json() == jwks.json()


def test_a_valid_token_reaches_a_protected_route(edge: httpx.Client, reader) -> None:
    response = edge.get(ME, headers=reader.headers)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == reader.name


@pytest.mark.parametrize("scheme", ["bearer", "BEARER"])
def test_the_scheme_is_case_insensitive(edge: httpx.Client, reader, scheme: str) -> None:
    """RFC 9110: `bearer …` was taken for no token at all (401, "sign in first")."""
    response = edge.get(ME, headers={"authorization": f"{scheme} {reader.access_token}"})
    assert response.status_code == 200, response.text


def test_a_protected_route_without_a_token_is_401(edge: httpx.Client) -> None:
    assert edge.get(ME).status_code == 401


def test_public_routes_need_no_token(edge: httpx.Client) -> None:
    assert edge.get("/v1/books", params={"page_size": 1}).status_code == 200
    assert edge.get("/.well-known/jwks.json").status_code == 200


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(
            lambda t: _encode({**_segments(t)[0], "alg": "none"}) + "." + t.split(".")[1] + ".", id="alg-none"
        ),
        pytest.param(
            lambda t: ".".join([t.split(".")[0], _encode(_claims_like(t, role="admin")), t.split(".")[2]]),
            id="tampered-claims",
        ),
        pytest.param(lambda t: _signed_by_a_stranger(_claims_like(t), _segments(t)[0]["kid"]), id="wrong-signature"),
        pytest.param(
            lambda t: _signed_by_a_stranger(_claims_like(t, aud="someone-else"), _segments(t)[0]["kid"]),
            id="wrong-audience-and-key",
        ),
        pytest.param(lambda t: t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB"), id="truncated-signature"),
        pytest.param(lambda t: "not-a-jwt", id="garbage"),
    ],
)
def test_a_forged_token_is_401_on_any_route(edge: httpx.Client, reader, forge) -> None:
    forged = forge(reader.access_token)
    assert edge.get(ME, headers=_bearer(forged)).status_code == 401
    # Present but invalid is refused even where no token is needed.
    assert edge.get("/v1/books", headers=_bearer(forged)).status_code == 401


def _signed_by_the_real_key(key, token: str, **changes: object) -> str:
    return jwt.encode(_claims_like(token, **changes), key.private_key, algorithm="ES256", headers={"kid": key.kid})


def test_a_correctly_signed_token_still_works(edge: httpx.Client, reader, real_signing_key) -> None:
    token = _signed_by_the_real_key(real_signing_key, reader.access_token)
    assert edge.get(ME, headers=_bearer(token)).status_code == 200  # the control for the two tests below


def test_an_expired_token_is_401(edge: httpx.Client, reader, real_signing_key) -> None:
    an_hour_ago = int((datetime.now(UTC) - timedelta(hours=1)).timestamp())
    token = _signed_by_the_real_key(real_signing_key, reader.access_token, iat=an_hour_ago - 900, exp=an_hour_ago)
    response = edge.get(ME, headers=_bearer(token))
    assert response.status_code == 401
    assert "expired" in response.text.lower()
    assert [d["reason"] for d in response.json()["details"]] == ["TOKEN_EXPIRED"]  # refresh, not sign in again


@pytest.mark.parametrize("claims", [{"aud": "another-api"}, {"iss": "someone-else"}], ids=["audience", "issuer"])
def test_a_token_for_another_audience_or_from_another_issuer_is_401(
    edge: httpx.Client, reader, real_signing_key, claims: dict
) -> None:
    token = _signed_by_the_real_key(real_signing_key, reader.access_token, **claims)
    response = edge.get(ME, headers=_bearer(token))
    assert response.status_code == 401
    assert [d["reason"] for d in response.json()["details"]] == ["TOKEN_INVALID"]
