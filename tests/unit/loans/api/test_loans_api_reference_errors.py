"""What the loans API reference (the RPC comments, and so the OpenAPI document, the stubs' and the Python
client's docstrings) tells an integrator about refusals and fines matches what the service does: an integrator
maps reasons to messages from it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[4]
DOCUMENT = json.loads((ROOT / "gen" / "docs" / "openapi.json").read_text(encoding="utf-8"))


def _post(path: str) -> dict[str, Any]:
    operation: dict[str, Any] = DOCUMENT["paths"][path]["post"]
    return operation


def _refusals(path: str) -> str:
    return " ".join(str(response.get("description", "")) for response in _post(path)["responses"].values())


def test_closing_a_day_is_documented_as_sparing_the_fines_the_service_no_longer_charges() -> None:
    said = " ".join(_post("/v1/closedDays")["description"].split())
    assert "fines still count every day" not in said
    assert "a closed day is not counted in their overdue days nor fined" in said


def test_an_overdue_renewal_is_documented_as_loan_overdue() -> None:
    assert "LOAN_OVERDUE" in _refusals("/v1/loans/{loan}:renew")  # Loan.renew raises it (domain/loans.py)


def test_a_reference_copy_s_not_for_loan_is_documented_on_issue() -> None:
    said = " ".join(_refusals("/v1/loans:issue").split())
    assert "NOT_FOR_LOAN: the copy's item type is not for loan" in said


def test_report_copy_missing_documents_its_invalid_arguments() -> None:
    said = _refusals("/v1/holds/{hold}:reportCopyMissing")
    assert "`INVALID_ARGUMENT`" in said and "copy_status" in said and "request_id" in said
