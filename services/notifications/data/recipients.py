"""The projection of accounts in Postgres."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert

from services.notifications.data.tables import recipients as table
from services.notifications.domain.recipients import AccountStatus, ChannelChoice, Recipient
from services.support.runtime.driver import DriverStatement
from services.support.runtime.repository import TrackingRepository

# `= ANY(array)`, not an expanding IN: one statement text whatever the count, so one prepared statement.
_GET_MANY = DriverStatement(
    sa.select(table).where(table.c.user_id == sa.any_(sa.bindparam("ids", type_=ARRAY(UUID(as_uuid=True))))),
    read=True,
)
_LOCK_MANY = DriverStatement(
    sa.select(table)
    .where(table.c.user_id == sa.any_(sa.bindparam("ids", type_=ARRAY(UUID(as_uuid=True)))))
    .with_for_update()
)
_ADD = DriverStatement(
    insert(table)
    .values({c.name: sa.bindparam(c.name, type_=c.type) for c in table.c})
    .on_conflict_do_nothing(index_elements=[table.c.user_id])
)
_UPSERT = insert(table)
_UPSERT = _UPSERT.on_conflict_do_update(
    index_elements=[table.c.user_id], set_={c.name: _UPSERT.excluded[c.name] for c in table.c if c.name != "user_id"}
)


class SqlRecipientRepository(TrackingRepository):
    async def get_many(self, user_ids: Iterable[uuid.UUID], *, lock: bool = False) -> dict[uuid.UUID, Recipient]:
        rows = await self._fetch(_LOCK_MANY if lock else _GET_MANY, {"ids": list(user_ids)})
        return {row["user_id"]: _to_recipient(row) for row in rows}

    async def save(self, recipient: Recipient) -> None:
        await self.session.execute(_UPSERT, _to_row(recipient))

    async def add(self, recipient: Recipient) -> bool:
        return await self._execute(_ADD, _to_row(recipient)) == 1

    async def count(self) -> int:
        return int(await self.session.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


def _to_row(r: Recipient) -> dict[str, Any]:
    return {
        "user_id": r.user_id,
        "email": r.email,
        "phone": r.phone,
        "display_name": r.display_name,
        "card_number": r.card_number,
        "home_branch": r.home_branch,
        "locale": r.locale,
        "time_zone": r.time_zone,
        "status": r.status.value,
        "email_opt_in": r.email_opt_in,
        "sms_opt_in": r.sms_opt_in,
        "kinds": {kind: {"email": c.email, "sms": c.sms} for kind, c in r.kinds.items()},
        "version": r.version,
        "status_at": r.status_at,
    }


def _to_recipient(m: Mapping[str, Any]) -> Recipient:
    """A recipient from a row by column name (SQLAlchemy's row mapping, or the driver's record)."""
    return Recipient(
        user_id=m["user_id"],
        email=m["email"],
        phone=m["phone"],
        display_name=m["display_name"],
        card_number=m["card_number"],
        home_branch=m["home_branch"],
        locale=m["locale"],
        time_zone=m["time_zone"],
        status=AccountStatus(m["status"]),
        email_opt_in=m["email_opt_in"],
        sms_opt_in=m["sms_opt_in"],
        kinds={kind: ChannelChoice(bool(c.get("email")), bool(c.get("sms"))) for kind, c in m["kinds"].items()},
        version=m["version"],
        status_at=m["status_at"],
    )
