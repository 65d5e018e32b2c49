"""What a migration that rewords built-in templates does: a stored template nobody edited (its words still the
old built-in ones) takes the new built-in words; a template the library edited keeps its own."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.notifications.data.template_seeds import BUILTIN


def digest(subject: str, body: str, html: str) -> str:
    """SHA-256 of a template's subject, body and html (joined by U+001F): how a migration names old words."""
    return hashlib.sha256("\x1f".join((subject, body, html)).encode()).hexdigest()


def reword_untouched(connection: Connection, old_builtin: Mapping[str, str]) -> None:
    """Give the templates of `old_builtin` (id -> digest of the old built-in words) the current built-in words,
    where nobody changed them (no `updated_by`, the old words' digest)."""
    rows = connection.execute(
        sa.text("SELECT id, subject, body, html FROM templates WHERE updated_by = '' AND id = ANY(:ids)"),
        {"ids": list(old_builtin)},
    ).all()
    for template_id, subject, body, html in rows:
        if digest(subject, body, html) != old_builtin[template_id] or template_id not in BUILTIN:
            continue
        new = BUILTIN[template_id]
        connection.execute(
            sa.text(
                "UPDATE templates SET subject = :subject, body = :body, html = :html, version = version + 1,"
                " updated_at = now() WHERE id = :id"
            ),
            {"id": template_id, "subject": new.subject, "body": new.body, "html": new.html},
        )
