"""A peer let into a service for a few reads (users into loans, to ask before closing an account) gets
exactly those methods from the sidecar's RBAC, not the whole API."""

from __future__ import annotations

from typing import Any

from services.support.mesh import registry
from services.support.mesh.envoy_sidecar import _rbac

USERS = registry.spiffe_id("users")
LOANS_API = "/athenaeum.loans.v1.LoansService"


def _policies_of(principal: str, rules: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        policy
        for policy in rules["policies"].values()
        if any(p["authenticated"]["principal_name"]["exact"] == principal for p in policy["principals"])
    ]


def test_users_may_call_loans_for_the_standing_of_an_account_it_closes_only() -> None:
    rules = _rbac("loans")["typed_config"]["rules"]
    (policy,) = _policies_of(USERS, rules)
    allowed = sorted(p["url_path"]["path"]["exact"] for p in policy["permissions"])
    # and the liveness check users' sidecar makes of loans (refused, it would take loans for down)
    assert allowed == [f"{LOANS_API}/GetClosingStanding", "/grpc.health.v1.Health/Check"]
    assert "users" in registry.service("loans").callers


def test_a_peer_without_a_limit_keeps_every_method() -> None:
    rules = _rbac("users")["typed_config"]["rules"]
    (policy,) = _policies_of(registry.spiffe_id("loans"), rules)
    assert policy["permissions"] == [{"any": True}]
