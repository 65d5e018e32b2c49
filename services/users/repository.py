"""Users persistence: tables, repositories (never commit) and the unit of work."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.support.runtime.db import SqlAlchemyUnitOfWork, TrackingRepository, violated_constraint
from services.support.runtime.errors import AlreadyExists, Conflict
from services.support.runtime.idempotency import RequestLog
from services.users.domain import Profile, User, UserNotFound, UserRole, UserStatus, user_name
from services.users.sessions import LoginThrottle, RefreshToken, Session

metadata = sa.MetaData()

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("email", sa.Text, nullable=False, unique=True),  # stored normalized (lower-case)
    sa.Column("display_name", sa.Text, nullable=False, server_default=""),
    sa.Column("phone", sa.Text, nullable=False, server_default=""),
    sa.Column("card_number", sa.Text, nullable=False, unique=True),
    sa.Column("patron_category", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("status_reason", sa.Text, nullable=False, server_default=""),
    sa.Column("home_branch", sa.Text, nullable=False, server_default=""),
    sa.Column("expire_at", sa.DateTime(timezone=True)),
    sa.Column("email_opt_in", sa.Boolean, nullable=False),
    sa.Column("sms_opt_in", sa.Boolean, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("access_expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("revoke_reason", sa.Text, nullable=False, server_default=""),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("digest", sa.Text, primary_key=True),  # SHA-256 of the token; the token itself is never stored
    sa.Column("session_id", UUID(as_uuid=True), sa.ForeignKey("sessions.id"), nullable=False, index=True),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True)),
)

login_throttles = sa.Table(
    "login_throttles",
    metadata,
    sa.Column("email", sa.Text, primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("window_started_at", sa.DateTime(timezone=True)),
    sa.Column("locked_until", sa.DateTime(timezone=True)),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("kid", sa.Text, primary_key=True),
    sa.Column("private_key_pem", sa.LargeBinary, nullable=False),  # encrypted with the configured passphrase
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("activates_at", sa.DateTime(timezone=True), nullable=False),
)


def _to_user(row: sa.Row[tuple[object, ...]]) -> User:
    m = row._mapping
    profile = Profile(
        email=m["email"],
        display_name=m["display_name"],
        phone=m["phone"],
        patron_category=m["patron_category"],
        role=UserRole(m["role"]),
        status=UserStatus(m["status"]),
        status_reason=m["status_reason"],
        home_branch=m["home_branch"],
        expire_at=m["expire_at"],
        email_opt_in=m["email_opt_in"],
        sms_opt_in=m["sms_opt_in"],
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
        "password_hash": user.password_hash,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "version": user.version,
    }


@dataclass(frozen=True, slots=True)
class UserFilter:
    role: UserRole | None = None
    status: UserStatus | None = None
    patron_category: str = ""
    text: str = ""


@dataclass(frozen=True, slots=True)
class UserPage:
    users: list[User]
    total_size: int
    has_more: bool


class CardNumberTaken(Exception):
    """Two generated card numbers collided: the caller draws another."""


class SqlUserRepository(TrackingRepository):
    async def add(self, user: User) -> None:
        try:
            async with self.session.begin_nested():
                await self.session.execute(users.insert().values(id=user.id, **_to_row(user)))
        except IntegrityError as error:
            self._raise_for(error, user)
        self._track(user)

    async def save(self, user: User) -> None:
        """Write back a changed user, if nobody else changed it since it was read (optimistic lock)."""
        try:
            async with self.session.begin_nested():
                result = await self.session.execute(
                    users.update()
                    .where(users.c.id == user.id, users.c.version == user.version - 1)
                    .values(**_to_row(user))
                )
        except IntegrityError as error:
            self._raise_for(error, user)
        if result.rowcount != 1:
            raise Conflict(f"{user.name} was changed by someone else; read it again", reason="CONCURRENT_UPDATE")

    async def get(self, user_id: uuid.UUID) -> User:
        row = (await self.session.execute(sa.select(users).where(users.c.id == user_id))).first()
        if row is None:
            raise UserNotFound(user_name(user_id))
        return self._track(_to_user(row))

    async def find_by_email(self, email: str) -> User | None:
        row = (await self.session.execute(sa.select(users).where(users.c.email == email))).first()
        return self._track(_to_user(row)) if row is not None else None

    async def list_newest_first(
        self, where: UserFilter, *, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> UserPage:
        conditions = _conditions(where)
        query = sa.select(users).where(*conditions).order_by(users.c.created_at.desc(), users.c.id.desc())
        if after is not None:
            query = query.where(sa.tuple_(users.c.created_at, users.c.id) < sa.tuple_(*after))
        rows = (await self.session.execute(query.limit(limit + 1))).all()
        total = await self.session.scalar(sa.select(sa.func.count()).select_from(users).where(*conditions))
        return UserPage([_to_user(r) for r in rows[:limit]], int(total or 0), len(rows) > limit)

    @staticmethod
    def _raise_for(error: IntegrityError, user: User) -> None:
        constraint = violated_constraint(error)
        if constraint == "users_email_key":
            raise AlreadyExists(
                "an account with this email already exists", reason="EMAIL_TAKEN", metadata={"field": "email"}
            ) from None
        if constraint == "users_card_number_key":
            raise CardNumberTaken(user.card_number) from None
        raise error


def _conditions(where: UserFilter) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if where.role is not None:
        conditions.append(users.c.role == str(where.role))
    if where.status is not None:
        conditions.append(users.c.status == str(where.status))
    if where.patron_category:
        conditions.append(users.c.patron_category == where.patron_category)
    if where.text:
        escaped = where.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        columns = (users.c.email, users.c.display_name, users.c.phone, users.c.card_number)
        conditions.append(sa.or_(*(column.ilike(pattern, escape="\\") for column in columns)))
    return conditions


class SqlSessionRepository(TrackingRepository):
    async def add(self, session: Session) -> None:
        await self.session.execute(
            sessions.insert().values(
                id=session.id,
                user_id=session.user_id,
                created_at=session.created_at,
                access_expires_at=session.access_expires_at,
            )
        )
        self._track(session)

    async def refresh_token(self, digest: str) -> RefreshToken | None:
        """The stored token with this digest, locked until commit (two refreshes race: one wins)."""
        query = sa.select(refresh_tokens).where(refresh_tokens.c.digest == digest).with_for_update()
        row = (await self.session.execute(query)).first()
        return RefreshToken(**row._mapping) if row is not None else None

    async def get(self, session_id: uuid.UUID) -> Session:
        query = sa.select(sessions).where(sessions.c.id == session_id).with_for_update()
        row = (await self.session.execute(query)).one()
        return self._track(Session(**row._mapping))

    async def active_of(self, user_id: uuid.UUID) -> list[Session]:
        query = sa.select(sessions).where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
        return [self._track(Session(**row._mapping)) for row in (await self.session.execute(query)).all()]

    async def save(self, session: Session, *, spent: RefreshToken | None = None) -> None:
        """Store the session's state, the token it spent, and the tokens it issued."""
        await self.session.execute(
            sessions.update()
            .where(sessions.c.id == session.id)
            .values(
                access_expires_at=session.access_expires_at,
                revoked_at=session.revoked_at,
                revoke_reason=session.revoke_reason,
            )
        )
        if spent is not None:
            await self.session.execute(
                refresh_tokens.update().where(refresh_tokens.c.digest == spent.digest).values(used_at=spent.used_at)
            )
        if session.issued:
            await self.session.execute(
                refresh_tokens.insert(),
                [
                    {
                        "digest": t.digest,
                        "session_id": t.session_id,
                        "issued_at": t.issued_at,
                        "expires_at": t.expires_at,
                    }
                    for t in session.issued
                ],
            )
            session.issued.clear()


class SqlThrottleRepository(TrackingRepository):
    async def get(self, email: str) -> LoginThrottle:
        """The email's throttle, locked for this transaction (concurrent failures all count)."""
        await self.session.execute(insert(login_throttles).values(email=email, failures=0).on_conflict_do_nothing())
        query = sa.select(login_throttles).where(login_throttles.c.email == email).with_for_update()
        row = (await self.session.execute(query)).one()
        return self._track(LoginThrottle(**row._mapping))

    async def save(self, throttle: LoginThrottle) -> None:
        await self.session.execute(
            login_throttles.update()
            .where(login_throttles.c.email == throttle.email)
            .values(
                failures=throttle.failures,
                window_started_at=throttle.window_started_at,
                locked_until=throttle.locked_until,
            )
        )


class SqlUsersUnitOfWork(SqlAlchemyUnitOfWork):
    users: SqlUserRepository
    sessions: SqlSessionRepository
    throttles: SqlThrottleRepository
    requests: RequestLog

    def _open(self, session: AsyncSession) -> None:
        self.users = SqlUserRepository(session)
        self.sessions = SqlSessionRepository(session)
        self.throttles = SqlThrottleRepository(session)
        self.requests = RequestLog(session)

    def _repositories(self) -> tuple[TrackingRepository, ...]:
        return (self.users, self.sessions, self.throttles)
