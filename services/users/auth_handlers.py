"""Sign-up, sign-in, token refresh and sign-out use cases, and the published key set.

No account enumeration: an unknown email and a wrong password give the same UNAUTHENTICATED answer after
the same argon2 work (a decoy hash is verified), and both count towards the email's throttle.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.support.runtime.clock import Clock
from services.support.runtime.errors import InvalidArgument, Unauthenticated
from services.users.domain import Profile, User, UserRole
from services.users.handlers import UsersUnitOfWork, add_new_user, check_new_account
from services.users.keys import KeyStore
from services.users.passwords import Passwords
from services.users.sessions import RefreshTokenReused, Session, ThrottlePolicy, UserLoggedIn, token_digest
from services.users.tokens import AccessToken, issue_access_token

BAD_CREDENTIALS = "wrong email or password"


@dataclass(frozen=True, slots=True)
class AuthDeps:
    """What every auth use case needs besides its unit of work."""

    clock: Clock
    passwords: Passwords
    keys: KeyStore
    access_ttl: timedelta
    refresh_ttl: timedelta
    throttle: ThrottlePolicy


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: User
    access: AccessToken
    refresh_token: str
    refresh_expires_at: datetime


@dataclass(frozen=True, slots=True)
class Register:
    profile: Profile
    password: str
    request_id: uuid.UUID | None = None


async def register(cmd: Register, uow: UsersUnitOfWork, deps: AuthDeps) -> SignedIn:
    """A new reader account, signed in at once."""
    profile = Profile(
        email=cmd.profile.email,
        display_name=cmd.profile.display_name,
        phone=cmd.profile.phone,
        email_opt_in=cmd.profile.email_opt_in,
        sms_opt_in=cmd.profile.sms_opt_in,
        role=UserRole.READER,  # self-service accounts are readers, whatever the request says
    )
    check_new_account(profile, cmd.password, prefix="", password_required=True)
    password_hash = await deps.passwords.hash(cmd.password)
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, "Register"):
            user = await uow.users.get(uuid.UUID(previous.removeprefix("users/")))
            if not await deps.passwords.verify(user.password_hash, cmd.password):
                raise InvalidArgument.field("request_id", "was used for another registration")
        else:
            now = deps.clock.now()
            user = await add_new_user(uow, lambda: User.register(profile, password_hash=password_hash, now=now))
            await uow.requests.remember(cmd.request_id, "Register", user.name)
        signed_in = await _start_session(user, uow, deps)
        await uow.commit()
    return signed_in


async def login(email: str, password: str, uow: UsersUnitOfWork, deps: AuthDeps) -> SignedIn:
    """Email + password -> tokens. Throttled per email after repeated failures.

    The argon2 check runs between two short transactions, holding no row lock or database connection, so
    a burst of sign-ins cannot starve the pool; the attempt is counted before it, so a burst of guesses
    for one email cannot outrun the throttle either.
    """
    if not email.strip() or not password:
        fields = [name for name, value in (("email", email.strip()), ("password", password)) if not value]
        raise InvalidArgument.field(fields[0], "is required")
    normalized = email.strip().lower()
    now = deps.clock.now()
    async with uow:
        throttle = await uow.throttles.get(normalized)
        throttle.begin_attempt(now=now, policy=deps.throttle)
        await uow.throttles.save(throttle)
        user = await uow.users.find_by_email(normalized)
        await uow.commit()
    verified = await deps.passwords.verify(user.password_hash if user else "", password)
    async with uow:
        throttle = await uow.throttles.get(normalized)
        if not verified or user is None:
            throttle.record_failure("wrong_password" if user else "unknown_email", now=now)
            await uow.commit()
            raise Unauthenticated(BAD_CREDENTIALS, reason="BAD_CREDENTIALS")
        throttle.record_success()
        await uow.throttles.save(throttle)
        user = await uow.users.get(user.id)  # its state now, not before the password check
        user.ensure_may_sign_in(now)
        signed_in = await _start_session(user, uow, deps)
        await uow.commit()
    return signed_in


async def refresh(refresh_token: str, uow: UsersUnitOfWork, deps: AuthDeps) -> SignedIn:
    """Spend a refresh token for a new pair; a token spent twice revokes its whole session."""
    if not refresh_token:
        raise InvalidArgument.field("refresh_token", "is required")
    now = deps.clock.now()
    async with uow:
        record = await uow.sessions.refresh_token(token_digest(refresh_token))
        if record is None:
            raise Unauthenticated("unknown refresh token", reason="REFRESH_TOKEN_INVALID")
        session = await uow.sessions.get(record.session_id)
        try:
            session.rotate(record, now=now)
        except RefreshTokenReused:
            await uow.sessions.save(session)
            await uow.commit()  # the revocation must stick even though the call fails
            raise
        user = await uow.users.get(session.user_id)
        user.ensure_may_sign_in(now)
        signed_in = await _issue(user, session, deps)
        await uow.sessions.save(session, spent=record)
        await uow.commit()
    return signed_in


async def logout(refresh_token: str, uow: UsersUnitOfWork, deps: AuthDeps) -> None:
    """End the session the refresh token belongs to. Idempotent; an unknown token is not an error."""
    if not refresh_token:
        raise InvalidArgument.field("refresh_token", "is required")
    async with uow:
        record = await uow.sessions.refresh_token(token_digest(refresh_token))
        if record is None:
            return
        session = await uow.sessions.get(record.session_id)
        session.revoke("logout", now=deps.clock.now())
        await uow.sessions.save(session)
        await uow.commit()


async def published_keys(deps: AuthDeps) -> list[dict[str, str]]:
    """The JWKS: every key that may still have to verify a token."""
    keyring = await deps.keys.keyring()
    return [key.jwk() for key in keyring.published(deps.clock.now(), token_ttl=deps.access_ttl)]


async def _start_session(user: User, uow: UsersUnitOfWork, deps: AuthDeps) -> SignedIn:
    now = deps.clock.now()
    session = Session.start(user.id, now=now)
    session.events.append(UserLoggedIn(uuid.uuid4(), now, user.name))
    signed_in = await _issue(user, session, deps)
    await uow.sessions.add(session)
    await uow.sessions.save(session)
    return signed_in


async def _issue(user: User, session: Session, deps: AuthDeps) -> SignedIn:
    now = deps.clock.now()
    keyring = await deps.keys.keyring()
    access = issue_access_token(user, session_id=session.id, keyring=keyring, now=now, ttl=deps.access_ttl)
    token, record = session.issue(now=now, refresh_ttl=deps.refresh_ttl, access_expires_at=access.expires_at)
    return SignedIn(user, access, token, record.expires_at)
