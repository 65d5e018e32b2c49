"""A catalogue change as the audit trail reads it: what a field became and what it was."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.catalog.api.events import encode
from services.catalog.domain.books import Book, BookDetails, BookUpdated
from services.catalog.domain.copies import Copy
from services.catalog.domain.copy_events import CopyUpdated
from services.catalog.domain.copy_values import CopyDetails, CopyStatus
from services.catalog.domain.item_types import ItemType
from services.events.api.audit import audit_of
from services.support.runtime.messaging import EVENT_TYPE_HEADER

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def attributes(event: object) -> dict[str, str]:
    message = encode(event)  # type: ignore[arg-type]
    return audit_of(message.subject, message.payload, {EVENT_TYPE_HEADER: message.event_type}, now=NOW).attributes


def test_a_book_s_change_keeps_its_old_title_and_authors() -> None:
    """The old title was nowhere in the trail: only the whole new book and the mask."""
    book = Book.register(BookDetails("Old title", authors=("Gogol",)), now=NOW)
    book.revise(BookDetails("New title", authors=("Gogol", "Bulgakov")), ("title", "authors"), now=NOW)
    trail = attributes(next(e for e in book.events if isinstance(e, BookUpdated)))
    assert (trail["book.title"], trail["previous_values.title"]) == ("New title", "Old title")
    assert trail["previous_values.authors"] == '["Gogol"]'


def test_a_copy_s_move_keeps_its_old_branch() -> None:
    copy = Copy.register(uuid.uuid4(), CopyDetails("39000000001", branch="MAIN"), now=NOW, status=CopyStatus.AVAILABLE)
    copy.revise(CopyDetails("39000000001", branch="EAST"), None, ("branch",), now=NOW)
    trail = attributes(next(e for e in copy.events if isinstance(e, CopyUpdated)))
    assert (trail["copy.branch"], trail["previous_values.branch"]) == ("EAST", "MAIN")


def test_an_item_type_made_not_for_loan_is_audited_with_what_it_was() -> None:
    kind = ItemType.create("REF", "Reference", not_for_loan=False, now=NOW)
    created = attributes(kind.events[0])
    assert (created["item_type.name"], created["item_type.not_for_loan"]) == ("itemTypes/REF", "false")
    kind.revise(description="", not_for_loan=True, paths=("not_for_loan",), now=NOW)
    trail = attributes(kind.events[-1])
    assert (trail["item_type.not_for_loan"], trail["previous_values.not_for_loan"]) == ("true", "false")
    kind.delete(copies=0, now=NOW)
    assert attributes(kind.events[-1])["deleted"] == "true"


def test_an_item_type_renamed_is_audited_with_its_old_code() -> None:
    kind = ItemType("LARGE PRINT", "Large print", False, created_at=NOW, updated_at=NOW)
    trail = attributes(kind.renamed("LARGE_PRINT", now=NOW).events[-1])
    assert (trail["item_type.code"], trail["previous_values.code"]) == ("LARGE_PRINT", "LARGE PRINT")
    assert trail["item_type.name"] == "itemTypes/LARGE_PRINT"
