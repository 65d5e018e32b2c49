"""Migrations 0011-0012, 0014 and 0015 on real Postgres: the reset link's SMS templates go, and the built-in templates
reworded since (A8, A14, B3, NF8) replace the stored copies nobody edited, and only those."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from services.notifications.data.tables import templates
from services.notifications.data.template_seeds import BUILTIN
from services.support.runtime.migrations import alembic_config, upgrade_to_head

pytestmark = pytest.mark.integration
OLD_OVERDUE_SMS_RU = (
    "{{ library_name }}: «{{ book_title }}» просрочена на {{ overdue_days }} дн. (срок {{ due_date }}). Верните её."
)


def _row(template_id: str, body: str, *, updated_by: str = "") -> dict[str, object]:
    kind, channel, locale = template_id.rsplit("_", 2)
    return {
        "id": template_id, "kind": kind, "channel": channel, "locale": locale, "subject": "", "body": body,
        "html": "", "version": 1, "updated_at": datetime(2026, 1, 1, tzinfo=UTC), "updated_by": updated_by,
    }  # fmt: skip


async def test_unedited_old_built_ins_are_reworded_and_the_reset_sms_templates_removed(postgres) -> None:
    url = await asyncio.to_thread(postgres.fresh_database, "notifications")
    await asyncio.to_thread(command.upgrade, alembic_config("notifications", url), "0010")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                templates.insert(),
                [
                    _row("overdue_sms_ru", OLD_OVERDUE_SMS_RU),
                    _row("loan_returned_sms_ru", "Своими словами: «{{ book_title }}» возвращена."),
                    _row("password_reset_sms_en", "{{ library_name }}: {{ web_url }}#/r?token={{ reset_token }}"),
                ],
            )
        await asyncio.to_thread(upgrade_to_head, "notifications", url)
        async with engine.connect() as connection:
            rows = {row.id: row for row in (await connection.execute(sa.select(templates))).all()}
    finally:
        await engine.dispose()
    assert set(rows) == {"overdue_sms_ru", "loan_returned_sms_ru"}
    assert (rows["overdue_sms_ru"].body, rows["overdue_sms_ru"].version) == (BUILTIN["overdue_sms_ru"].body, 2)
    assert rows["loan_returned_sms_ru"].version == 1  # edited by the library: its words are kept


OLD_NEW_BOOK_SMS_EN = (
    "{{ library_name }}: new from {{ author }}: “{{ book_title }}”.{% if web_url %} {{ web_url }}/#/books/{{ book_id }}"
    "{% endif %}"
)


async def test_unedited_new_book_templates_learn_the_digest_and_edited_ones_are_kept(postgres) -> None:
    url = await asyncio.to_thread(postgres.fresh_database, "notifications")
    await asyncio.to_thread(command.upgrade, alembic_config("notifications", url), "0013")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                templates.insert(),
                [
                    _row("new_book_by_author_sms_en", OLD_NEW_BOOK_SMS_EN),
                    _row("new_book_by_author_sms_ru", "{{ library_name }}: «{{ book_title }}»", updated_by="users/1"),
                ],
            )
        await asyncio.to_thread(upgrade_to_head, "notifications", url)
        async with engine.connect() as connection:
            rows = {row.id: row for row in (await connection.execute(sa.select(templates))).all()}
    finally:
        await engine.dispose()
    new = BUILTIN["new_book_by_author_sms_en"].body
    assert (rows["new_book_by_author_sms_en"].body, rows["new_book_by_author_sms_en"].version) == (new, 2)
    assert "book_titles" in new and rows["new_book_by_author_sms_ru"].version == 1


OLD_EMAIL_CHANGED_SMS_RU = (
    "{{ library_name }}: почта вашей учётной записи изменена на {{ new_email }}. Не вы? Свяжитесь с библиотекой."  # noqa: RUF001
)


async def test_unedited_russian_sms_that_took_three_segments_are_shortened(postgres) -> None:
    url = await asyncio.to_thread(postgres.fresh_database, "notifications")
    await asyncio.to_thread(command.upgrade, alembic_config("notifications", url), "0014")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(templates.insert(), [_row("email_changed_sms_ru", OLD_EMAIL_CHANGED_SMS_RU)])
        await asyncio.to_thread(upgrade_to_head, "notifications", url)
        async with engine.connect() as connection:
            row = (await connection.execute(sa.select(templates).where(templates.c.id == "email_changed_sms_ru"))).one()
    finally:
        await engine.dispose()
    assert (row.body, row.version) == (BUILTIN["email_changed_sms_ru"].body, 2)
