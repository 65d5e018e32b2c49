"""Through the real edge: a display name or a book title with a line break is refused (400 naming the field),
not stored to be printed as extra lines in every letter and SMS."""

from __future__ import annotations

import httpx
import pytest
from conftest import Account, unique_email

pytestmark = pytest.mark.e2e


def _fields(response: httpx.Response) -> list[str]:
    return [
        violation["field"]
        for detail in response.json().get("details", [])
        for violation in detail.get("field_violations", [])
    ]


def test_a_display_name_with_a_line_break_is_refused_at_registration_and_in_an_update(
    edge: httpx.Client, new_reader
) -> None:
    name = "Bob\r\nBcc: victim@evil.org"
    body = {"email": unique_email(), "password": "Correct-Horse-42", "display_name": name}
    registered = edge.post("/v1/auth/register", json=body)
    assert registered.status_code == 400, registered.text
    assert [field.rpartition(".")[2] for field in _fields(registered)] == ["display_name"]
    reader = new_reader()
    renamed = edge.patch(f"/v1/{reader.name}", json={"display_name": "Bob\nSmith"}, headers=reader.headers)
    assert renamed.status_code == 400 and _fields(renamed) == ["user.display_name"], renamed.text


def test_a_title_with_a_line_break_is_refused(edge: httpx.Client, librarian: Account) -> None:
    created = edge.post("/v1/books", json={"title": "War and Peace\r\nSubject: injected"}, headers=librarian.headers)
    assert created.status_code == 400 and _fields(created) == ["book.title"], created.text
