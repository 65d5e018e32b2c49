"""Sign-up, sign-in, token refresh and sign-out.

No account enumeration: an unknown email and a wrong password give the same UNAUTHENTICATED answer after
the same argon2 work (a decoy hash is verified), and both count towards the same throttles: the account's
from that client and the client's (domain/throttling.py: growing delays, never a lock on the account).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.support.runtime.clock import Clock
from services.support.runtime.errors import InvalidArgument, Unauthenticated
from services.support.runtime.identity import ANONYMOUS, Role
from services.users.app.announcing import confirm_announced
from services.users.app.enrolment import add_new_user, check_new_account
from services.users.app.password_attempts import UNKNOWN_CLIENT, attempt_throttles, count_attempt, save_throttles
from services.users.app.ports import Passwords, SigningKeys, UsersUnitOfWork
from services.users.domain.access_tokens import AccessToken, issue_access_token
from services.users.domain.accounts import USER, User
from services.users.domain.profile import Profile
from services.users.domain.sessions import RefreshTokenReused, Session, TokenLifetimes, token_digest
from services.users.domain.throttling import Caller, SignInThrottling

BAD_CREDENTIALS = "wrong email or password"


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


@dataclass(frozen=True, slots=True)
class SignIn:
    email: str
    password: str
    client: str = ""
    """The address the edge saw the attempt come from ("" when unknown)."""


@dataclass(frozen=True, slots=True)
class RefreshSession:
    refresh_token: str


@dataclass(frozen=True, slots=True)
class SignOut:
    refresh_token: str


async def register(
    cmd: Register,
    *,
    uow: UsersUnitOfWork,
    clock: Clock,
    passwords: Passwords,
    keys: SigningKeys,
    lifetimes: TokenLifetimes,
) -> SignedIn:
    """A new reader account, signed in at once."""
    profile = Profile(
        email=cmd.profile.email,
        display_name=cmd.profile.display_name,
        phone=cmd.profile.phone,
        email_opt_in=cmd.profile.email_opt_in,
        sms_opt_in=cmd.profile.sms_opt_in,
        kind_choices=cmd.profile.kind_choices,
        locale=cmd.profile.locale,  # the language the reader signed up in: their welcome is already in it
        time_zone=cmd.profile.time_zone,
        role=Role.READER,  # self-service accounts are readers, whatever the request says
    )
    check_new_account(profile, cmd.password, prefix="", password_required=True)
    password_hash = await passwords.hash(cmd.password)
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, "Register"):
            user = await uow.users.get(USER.parse_id(previous))
            if not await passwords.verify(user.password_hash, cmd.password):
                raise InvalidArgument.field("request_id", "was used for another registration")
        else:
            now = clock.now()
            user = await add_new_user(uow, lambda: User.register(profile, password_hash=password_hash, now=now))
            await uow.requests.remember(cmd.request_id, "Register", user.name)
        signed_in = await _start_session(user, uow=uow, clock=clock, keys=keys, lifetimes=lifetimes)
        await uow.commit()
    return signed_in


async def sign_in(
    cmd: SignIn,
    *,
    uow: UsersUnitOfWork,
    clock: Clock,
    passwords: Passwords,
    keys: SigningKeys,
    lifetimes: TokenLifetimes,
    throttling: SignInThrottling,
) -> SignedIn:
    """Email + password -> tokens. Failures slow down further attempts on the account from the same client,
    and from that client on any account.

    The argon2 work runs between two short transactions, holding no row lock or database connection, so
    a burst of sign-ins cannot starve the pool; the attempt is counted before it, so a burst of guesses
    cannot outrun the throttles either. A hash made with older parameters is replaced in the sign-in's
    own transaction (the password is only ever in hand here).
    """
    email = _required_credentials(cmd)
    client = cmd.client or UNKNOWN_CLIENT
    caller = Caller(ANONYMOUS, client)
    now = clock.now()
    async with uow:
        found = await uow.users.find_by_email(email)
        account = USER.format(found.id) if found else ""
        refused = await count_attempt(uow, email, caller, account, now=now, throttling=throttling)
        await uow.commit()
    stored_hash = found.password_hash if found else ""
    verified = await passwords.verify(stored_hash, cmd.password) and found is not None
    rehashed = await passwords.hash(cmd.password) if verified and passwords.needs_rehash(stored_hash) else ""
    async with uow:
        for_account, by_client = await attempt_throttles(uow, email, client)
        if found is None or not verified:
            reason = "wrong_password" if found else "unknown_email"
            for_account.record_failure(email, reason, now=now, caller=caller, account=account, refused=refused)
            await uow.commit()
            raise Unauthenticated(BAD_CREDENTIALS, reason="BAD_CREDENTIALS")
        for_account.forgive()
        by_client.give_back()
        await save_throttles(uow, for_account, by_client)
        user = await uow.users.get(found.id)  # its state now, not before the password check
        user.ensure_may_sign_in(now)
        if rehashed:
            await uow.users.replace_password_hash(user.id, previous=stored_hash, new=rehashed)
        signed_in = await _start_session(user, uow=uow, clock=clock, keys=keys, lifetimes=lifetimes)
        await uow.commit()
    return signed_in


async def refresh_session(
    cmd: RefreshSession, *, uow: UsersUnitOfWork, clock: Clock, keys: SigningKeys, lifetimes: TokenLifetimes
) -> SignedIn:
    """Spend a refresh token for a new pair; a token spent twice revokes its whole session."""
    if not cmd.refresh_token:
        raise InvalidArgument.field("refresh_token", "is required")
    now = clock.now()
    async with uow:
        record = await uow.sessions.find_refresh_token(token_digest(cmd.refresh_token))
        if record is None:
            raise Unauthenticated("unknown refresh token", reason="REFRESH_TOKEN_INVALID")
        session = await uow.sessions.get(record.session_id)
        try:
            session.rotate(record, now=now)
        except RefreshTokenReused:
            await uow.sessions.save(session)
            await uow.commit()  # the revocation must stick even though the call fails
            # Answered once the other services can know it (or the wait for the bus gave up): the answer
            # says the session is revoked, and whoever replayed the token may hold its access token too.
            await uow.announced()
            raise
        user = await uow.users.get(session.user_id)
        user.ensure_may_sign_in(now)
        signed_in = await _issue_tokens(user, session, clock=clock, keys=keys, lifetimes=lifetimes)
        await uow.sessions.save(session, spent=record)
        await uow.commit()
    return signed_in


async def sign_out(cmd: SignOut, *, uow: UsersUnitOfWork, clock: Clock) -> None:
    """End the session the refresh token belongs to. Idempotent; an unknown token is not an error.

    Answered once the revocation is on the bus: the other services refuse the session's access token only
    when it reaches them, so while the bus is away a sign-out that answered "done" would leave the token
    working everywhere but here, up to its expiry. UNAVAILABLE then, as for a block: send it again."""
    if not cmd.refresh_token:
        raise InvalidArgument.field("refresh_token", "is required")
    async with uow:
        record = await uow.sessions.find_refresh_token(token_digest(cmd.refresh_token))
        if record is None:
            return
        session = await uow.sessions.get(record.session_id)
        session.revoke("logout", now=clock.now())
        await uow.sessions.save(session)
        await uow.commit()
    await confirm_announced(
        uow,
        unconfirmed="signed out here, but the message bus is unreachable: until it is back, other services may "
        "still accept this session's access token; send the sign-out again to confirm it",
    )


def _required_credentials(cmd: SignIn) -> str:
    """The normalized email; InvalidArgument naming the first empty field."""
    email = cmd.email.strip()
    if not email or not cmd.password:
        fields = [name for name, value in (("email", email), ("password", cmd.password)) if not value]
        raise InvalidArgument.field(fields[0], "is required")
    return email.lower()


async def _start_session(
    user: User, *, uow: UsersUnitOfWork, clock: Clock, keys: SigningKeys, lifetimes: TokenLifetimes
) -> SignedIn:
    session = Session.start(user.id, now=clock.now())
    signed_in = await _issue_tokens(user, session, clock=clock, keys=keys, lifetimes=lifetimes)
    await uow.sessions.add(session)
    await uow.sessions.save(session)
    return signed_in


async def _issue_tokens(
    user: User, session: Session, *, clock: Clock, keys: SigningKeys, lifetimes: TokenLifetimes
) -> SignedIn:
    now = clock.now()
    keyring = await keys.keyring()
    access = issue_access_token(user, session_id=session.id, keyring=keyring, now=now, ttl=lifetimes.access)
    token, record = session.issue(now=now, refresh_ttl=lifetimes.refresh, access_expires_at=access.expires_at)
    return SignedIn(user, access, token, record.expires_at)
