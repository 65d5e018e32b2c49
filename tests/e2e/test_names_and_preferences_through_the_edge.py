"""Through the real edge: one id in any spelling is the caller's own, and one preference changes alone."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


def test_a_reader_reaches_their_own_records_with_their_id_in_upper_case(edge: httpx.Client, new_reader) -> None:
    reader = new_reader()
    collection, _, raw = reader.name.partition("/")
    for spelled in (raw.upper(), raw.replace("-", "")):
        own = edge.get(f"/v1/{collection}/{spelled}", headers=reader.headers)
        assert own.status_code == 200 and own.json()["name"] == reader.name, own.text
        loans = edge.get(f"/v1/{collection}/{spelled}/loans", headers=reader.headers)
        assert loans.status_code == 200, loans.text


def test_one_preference_changes_and_the_others_stay(edge: httpx.Client, new_reader) -> None:
    reader = new_reader()
    prefs = {"email_opt_in": False, "sms_opt_in": True, "kinds": {"hold_ready": {"email": True, "sms": False}}}
    body = {"phone": "+79991234567", "notification_preferences": prefs}
    mask = "phone,notification_preferences"
    assert edge.patch(f"/v1/{reader.name}", params={"update_mask": mask}, json=body, headers=reader.headers).is_success

    merged = edge.patch(
        f"/v1/{reader.name}", json={"notification_preferences": {"email_opt_in": True}}, headers=reader.headers
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["notification_preferences"] == {**prefs, "email_opt_in": True}

    one_kind = edge.patch(
        f"/v1/{reader.name}",
        params={"update_mask": "notification_preferences.kinds.hold_ready"},
        json={"notification_preferences": {}},
        headers=reader.headers,
    )
    assert one_kind.status_code == 200, one_kind.text
    left = one_kind.json()["notification_preferences"]
    assert (left["email_opt_in"], left["sms_opt_in"], left.get("kinds") or {}) == (True, True, {})
