"""Closing an account (DELETE /v1/users/{id}) through the real edge and mesh: users asks loans, over the
mesh, whether the patron still has books out or fines unpaid, and refuses while they do."""

from __future__ import annotations

import uuid

import grpc
import httpx
import pytest
from circulation import lend, new_book, reason

from athenaeum.loans.v1 import loans_pb2, loans_pb2_grpc
from services.support.mesh.certs import cert_path, key_path

pytestmark = pytest.mark.e2e


def _details(response: httpx.Response) -> dict[str, str]:
    """The metadata of the answer's google.rpc.ErrorInfo."""
    details = response.json().get("details", [])
    infos = [d for d in details if d.get("@type", "").endswith("google.rpc.ErrorInfo")]
    return dict(infos[0].get("metadata", {})) if infos else {}


def _status(edge: httpx.Client, staff, patron: str) -> str:
    return str(edge.get(f"/v1/{patron}", headers=staff.headers).json()["status"])


def test_an_account_with_a_book_out_or_a_fine_unpaid_is_not_closed(edge: httpx.Client, librarian, new_reader) -> None:
    patron = new_reader()
    _, (barcode,) = new_book(edge, librarian)
    lend(edge, librarian, patron.name, barcode=barcode)
    with_loan = edge.delete(f"/v1/{patron.name}", headers=librarian.headers)
    assert with_loan.status_code == 400, with_loan.text
    assert with_loan.json()["code"] == grpc.StatusCode.FAILED_PRECONDITION.value[0]
    assert reason(with_loan) == "ACCOUNT_HAS_LOANS" and _details(with_loan)["loans_out"] == "1"
    assert "return or settle first" in with_loan.json()["message"]
    assert _status(edge, librarian, patron.name) == "USER_STATUS_ACTIVE"
    assert edge.get("/v1/users/me", headers=patron.headers).status_code == 200  # still signed in

    assert edge.post("/v1/loans:return", json={"barcode": barcode}, headers=librarian.headers).status_code == 200
    charged = edge.post(
        "/v1/fines",
        json={"patron": patron.name, "amount": "3.00", "kind": "FINE_KIND_DAMAGED_ITEM", "description": "torn"},
        headers=librarian.headers,
    )
    assert charged.status_code == 200, charged.text
    with_fine = edge.delete(f"/v1/{patron.name}", headers=librarian.headers)
    assert with_fine.status_code == 400 and reason(with_fine) == "ACCOUNT_HAS_FINES", with_fine.text
    assert _details(with_fine)["amount_owed"] == "3.00" and _details(with_fine)["fines_outstanding"] == "1"
    assert _status(edge, librarian, patron.name) == "USER_STATUS_ACTIVE"

    paid = edge.post(f"/v1/{charged.json()['name']}:pay", json={"amount": "3.00"}, headers=librarian.headers)
    assert paid.status_code == 200, paid.text
    closed = edge.delete(f"/v1/{patron.name}", headers=librarian.headers)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "USER_STATUS_DEACTIVATED"


def test_an_account_is_not_closed_while_loans_cannot_be_asked(mesh, edge: httpx.Client, librarian, new_reader) -> None:
    patron = new_reader()
    mesh.process("loans").stop()
    try:
        refused = edge.delete(f"/v1/{patron.name}", headers=librarian.headers)
    finally:
        mesh.process("loans").start()
        mesh.wait_ready("loans")
    assert refused.status_code == 503, refused.text
    assert reason(refused) == "LOANS_UNAVAILABLE"
    assert _status(edge, librarian, patron.name) == "USER_STATUS_ACTIVE"


async def test_users_may_call_only_the_closing_standing_of_loans(mesh) -> None:
    certs = mesh.topology.cert_dir
    credentials = grpc.ssl_channel_credentials(
        root_certificates=(certs / "ca.pem").read_bytes(),
        private_key=key_path(certs, "users").read_bytes(),
        certificate_chain=cert_path(certs, "users").read_bytes(),
    )
    target, override = mesh.sidecar_target("loans"), [("grpc.ssl_target_name_override", "loans")]
    async with grpc.aio.secure_channel(target, credentials, options=override) as channel:
        loans = loans_pb2_grpc.LoansServiceStub(channel)
        patron = f"users/{uuid.uuid4()}"
        standing = await loans.GetClosingStanding(loans_pb2.GetClosingStandingRequest(name=patron), timeout=5)
        assert (standing.loans_out, standing.fines_outstanding) == (0, 0)
        assert standing.charges_held_for.ToTimedelta().total_seconds() == 10  # nothing owed: charges held a moment
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await loans.ReturnLoan(loans_pb2.ReturnLoanRequest(barcode="nope"), timeout=5)
        with pytest.raises(grpc.aio.AioRpcError) as listing:
            await loans.ListFines(loans_pb2.ListFinesRequest(parent=patron, page_size=1), timeout=5)
    assert denied.value.code() == listing.value.code() == grpc.StatusCode.PERMISSION_DENIED
