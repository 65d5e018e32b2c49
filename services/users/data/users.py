"""Accounts in Postgres: the users table <-> User, uniqueness of emails and card numbers, versioned saves."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from services.support.runtime.driver import INTEGRITY_ERRORS, DriverStatement, violated_constraint
from services.support.runtime.errors import AlreadyExists
from services.support.runtime.identity import Role
from services.support.runtime.repository import TrackingRepository
from services.users.app.ports import UserCursor, UserFilter
from services.users.data.tables import FOLDED_DISPLAY_NAME, users
from services.users.domain.accounts import USER, CardNumberTaken, User, UserNotFound
from services.users.domain.patron_search import name_words
from services.users.domain.profile import KindChoice, Profile, UserStatus

_BY_ID = DriverStatement(sa.select(users).where(users.c.id == sa.bindparam("user_id")), read=True)
"""Loans asks for a patron's eligibility before every issue: the read by id goes through the driver."""


class SqlUserRepository(TrackingRepository):
    async def add(self, user: User) -> None:
        try:
            async with self.session.begin_nested():
                await self.session.execute(users.insert().values(id=user.id, **_to_row(user)))
        except INTEGRITY_ERRORS as error:
            _raise_for(error, user)
        self._track(user)

    async def save(self, user: User) -> None:
        """Write back a user after one change (which bumped its version), if nobody else changed it since it
        was read (optimistic lock). The password hash is left alone: no account change sets it, and a
        sign-in may have just upgraded it."""
        changes = {column: value for column, value in _to_row(user).items() if column != "password_hash"}
        try:
            async with self.session.begin_nested():  # an email taken by someone else must not end the transaction
                await self._update_versioned(
                    users, row_id=user.id, version=user.version - 1, values=changes, name=user.name
                )
        except INTEGRITY_ERRORS as error:
            _raise_for(error, user)

    async def replace_password_hash(self, user_id: uuid.UUID, *, previous: str, new: str) -> bool:
        result = await self.session.execute(
            users.update().where(users.c.id == user_id, users.c.password_hash == previous).values(password_hash=new)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def get(self, user_id: uuid.UUID) -> User:
        found = await self._first(_BY_ID, {"user_id": user_id})
        if found is None:
            raise UserNotFound(USER.format(user_id))
        return self._track(_to_user(found))

    async def find_by_email(self, email: str) -> User | None:
        row = (await self.session.execute(sa.select(users).where(users.c.email == email))).first()
        return self._track(_to_user(row._mapping)) if row is not None else None

    async def list_newest_first(
        self, where: UserFilter, *, now: datetime, after: UserCursor | None, limit: int
    ) -> list[User]:
        newest_first = (users.c.created_at.desc(), users.c.id.desc())
        query = sa.select(users).where(*_conditions(where, now=now)).order_by(*newest_first)
        if after is not None:
            query = query.where(sa.tuple_(users.c.created_at, users.c.id) < sa.tuple_(after.created_at, after.user_id))
        return [_to_user(row._mapping) for row in (await self.session.execute(query.limit(limit))).all()]

    async def count(self, where: UserFilter, *, now: datetime) -> int:
        matching = sa.select(sa.func.count()).select_from(users).where(*_conditions(where, now=now))
        total = await self.session.scalar(matching)
        return int(total or 0)

    async def lock_active_admins(self, *, now: datetime) -> list[uuid.UUID]:
        """The ids of the admins who can sign in at `now`, their rows locked until commit (a second
        transaction waits, then sees a demoted or expired admin as no longer one: Postgres checks the
        conditions again on the row it waited for)."""
        query = sa.select(users.c.id).where(users.c.role == Role.ADMIN.value, _active_at(now)).with_for_update()
        return list((await self.session.execute(query)).scalars())


def _raise_for(error: Exception, user: User) -> None:
    constraint = violated_constraint(error)
    if constraint == "users_email_key":
        raise AlreadyExists(
            "an account with this email already exists", reason="EMAIL_TAKEN", metadata={"field": "email"}
        ) from None
    if constraint == "users_card_number_key":
        raise CardNumberTaken(user.card_number) from None
    raise error


def _active_at(now: datetime) -> sa.ColumnElement[bool]:
    """ACTIVE as stored and not past its expiry: the effective status ACTIVE (Profile.effective_status)."""
    unexpired = sa.or_(users.c.expire_at.is_(None), users.c.expire_at > now)
    return sa.and_(users.c.status == UserStatus.ACTIVE.value, unexpired)


def _status_at(status: UserStatus, now: datetime) -> sa.ColumnElement[bool]:
    """The accounts whose effective status at `now` is `status` (what the API answers for each)."""
    if status == UserStatus.ACTIVE:
        return _active_at(now)
    if status == UserStatus.EXPIRED:
        lapsed = sa.and_(users.c.status == UserStatus.ACTIVE.value, users.c.expire_at <= now)
        return sa.or_(users.c.status == UserStatus.EXPIRED.value, lapsed)
    return users.c.status == status.value


def _conditions(where: UserFilter, *, now: datetime) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if where.role is not None:
        conditions.append(users.c.role == str(where.role))
    if where.status is not None:
        conditions.append(_status_at(where.status, now))
    if where.patron_category:
        conditions.append(users.c.patron_category == where.patron_category)
    if where.text:
        conditions.append(_exactly(where.text) if where.exact else _text_matches(where.text))
    return conditions


def _exactly(text: str) -> sa.ColumnElement[bool]:
    """The account whose card number is `text`, or whose email is (emails are stored lower-case): two unique
    index lookups."""
    return sa.or_(users.c.card_number == text, users.c.email == text.lower())


def _text_matches(text: str) -> sa.ColumnElement[bool]:
    """`text` in the email, phone or card number; or each of its words in the display name, in any order,
    yo as ye (patron_search). Each has a trigram index (migration 0010), which the name's fold matches as
    written with constants (a generic plan's parameters would not): bitmap scans instead of reading every
    account."""
    columns = (users.c.email, users.c.phone, users.c.card_number)
    found: list[sa.ColumnElement[bool]] = [column.ilike(_containing(text), escape="\\") for column in columns]
    words = name_words(text)
    if words:
        found.append(sa.and_(*(FOLDED_DISPLAY_NAME.ilike(_containing(word), escape="\\") for word in words)))
    return sa.or_(*found)


def _containing(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _to_user(m: Mapping[Any, Any]) -> User:
    """A user from a row of the users table (SQLAlchemy's `row._mapping`, or the driver's record)."""
    profile = Profile(
        email=m["email"],
        display_name=m["display_name"],
        phone=m["phone"],
        patron_category=m["patron_category"],
        role=Role(m["role"]),
        status=UserStatus(m["status"]),
        status_reason=m["status_reason"],
        home_branch=m["home_branch"],
        expire_at=m["expire_at"],
        email_opt_in=m["email_opt_in"],
        sms_opt_in=m["sms_opt_in"],
        kind_choices=tuple(
            KindChoice(kind, bool(channels.get("email")), bool(channels.get("sms")))
            for kind, channels in sorted((m["notification_kinds"] or {}).items())
        ),
        locale=m["locale"],
        time_zone=m["time_zone"],
    )
    return User(
        id=m["id"],
        profile=profile,
        card_number=m["card_number"],
        password_hash=m["password_hash"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        version=m["version"],
    )


def _to_row(user: User) -> dict[str, object]:
    p = user.profile
    return {
        "email": p.email,
        "display_name": p.display_name,
        "phone": p.phone,
        "card_number": user.card_number,
        "patron_category": p.patron_category,
        "role": str(p.role),
        "status": str(p.status),
        "status_reason": p.status_reason,
        "home_branch": p.home_branch,
        "expire_at": p.expire_at,
        "email_opt_in": p.email_opt_in,
        "sms_opt_in": p.sms_opt_in,
        "notification_kinds": {c.kind: {"email": c.email, "sms": c.sms} for c in p.kind_choices},
        "locale": p.locale,
        "time_zone": p.time_zone,
        "password_hash": user.password_hash,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "version": user.version,
    }
