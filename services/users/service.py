"""Users and Auth servicers: proto -> command -> handler -> proto. No rules, no SQL, no status codes here."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

import grpc
from google.protobuf import empty_pb2

from athenaeum.users.v1 import users_pb2, users_pb2_grpc
from services.support.runtime.auth import current_identity
from services.support.runtime.clock import Clock
from services.support.runtime.errors import PermissionDenied
from services.support.runtime.idempotency import parse_request_id
from services.support.runtime.wire import timestamp, to_datetime
from services.users import auth_handlers, handlers
from services.users.domain import (
    OUTPUT_ONLY_FIELDS,
    Actor,
    Profile,
    User,
    UserRole,
    UserStatus,
    parse_user_name,
)
from services.users.passwords import Passwords
from services.users.repository import UserFilter

ROLES = {
    UserRole.READER: users_pb2.USER_ROLE_READER,
    UserRole.LIBRARIAN: users_pb2.USER_ROLE_LIBRARIAN,
    UserRole.ADMIN: users_pb2.USER_ROLE_ADMIN,
}
STATUSES = {
    UserStatus.ACTIVE: users_pb2.USER_STATUS_ACTIVE,
    UserStatus.BLOCKED: users_pb2.USER_STATUS_BLOCKED,
    UserStatus.EXPIRED: users_pb2.USER_STATUS_EXPIRED,
    UserStatus.DEACTIVATED: users_pb2.USER_STATUS_DEACTIVATED,
}
ROLE_OF = {value: key for key, value in ROLES.items()}
STATUS_OF = {value: key for key, value in STATUSES.items()}


def user_to_proto(user: User, *, now: datetime) -> users_pb2.User:
    p = user.profile
    return users_pb2.User(
        name=user.name,
        email=p.email,
        display_name=p.display_name,
        phone=p.phone,
        card_number=user.card_number,
        patron_category=p.patron_category,
        role=ROLES[p.role],
        status=STATUSES[user.effective_status(now)],
        notification_preferences=users_pb2.NotificationPreferences(
            email_opt_in=p.email_opt_in, sms_opt_in=p.sms_opt_in
        ),
        home_branch=p.home_branch,
        status_reason=p.status_reason,
        expire_time=timestamp(p.expire_at),
        create_time=timestamp(user.created_at),
        update_time=timestamp(user.updated_at),
        etag=user.etag,
    )


def profile_from_proto(user: users_pb2.User) -> Profile:
    """The writable fields as sent; unspecified enums and category take the defaults of a new reader."""
    prefs = user.notification_preferences if user.HasField("notification_preferences") else None
    return Profile(
        email=user.email,
        display_name=user.display_name,
        phone=user.phone,
        patron_category=user.patron_category or "ADULT",
        role=ROLE_OF.get(user.role, UserRole.READER),
        status=STATUS_OF.get(user.status, UserStatus.ACTIVE),
        status_reason=user.status_reason,
        home_branch=user.home_branch,
        expire_at=to_datetime(user.expire_time) if user.HasField("expire_time") else None,
        email_opt_in=prefs.email_opt_in if prefs else True,
        sms_opt_in=prefs.sms_opt_in if prefs else False,
    )


def update_mask_of(request: users_pb2.UpdateUserRequest) -> frozenset[str]:
    """The mask as given ("a.b" counts as "a"); without one, every field the client set (AIP-134)."""
    if request.update_mask.paths:
        return frozenset(path.split(".")[0] for path in request.update_mask.paths)
    return frozenset(descriptor.name for descriptor, _ in request.user.ListFields()) - OUTPUT_ONLY_FIELDS


def current_actor() -> Actor:
    identity = current_identity()
    if identity is None:
        raise PermissionDenied("this method acts for a signed-in user", reason="END_USER_REQUIRED")
    return Actor(identity.subject, UserRole(identity.role.value))


def resolve_user_id(name: str, *, field: str = "name") -> uuid.UUID:
    """The id a user name points at, "users/me" being the caller."""
    identity = current_identity()
    return parse_user_name(identity.resolve(name) if identity else name, field=field)


class UsersServicer(users_pb2_grpc.UsersServiceServicer):
    def __init__(self, *, uow: Callable[[], handlers.UsersUnitOfWork], clock: Clock, passwords: Passwords) -> None:
        self._uow = uow
        self._clock = clock
        self._passwords = passwords

    def _proto(self, user: User) -> users_pb2.User:
        return user_to_proto(user, now=self._clock.now())

    async def CreateUser(
        self, request: users_pb2.CreateUserRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.User:
        """Creates an account at the desk."""
        command = handlers.CreateUser(
            profile=profile_from_proto(request.user),
            password=request.password,
            actor=current_actor(),
            request_id=parse_request_id(request.request_id),
        )
        return self._proto(await handlers.create_user(command, self._uow(), self._clock, self._passwords))

    async def GetUser(self, request: users_pb2.GetUserRequest, context: grpc.aio.ServicerContext) -> users_pb2.User:
        """Returns one user ("users/me": the caller)."""
        return self._proto(await handlers.get_user(resolve_user_id(request.name), self._uow()))

    async def ListUsers(
        self, request: users_pb2.ListUsersRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.ListUsersResponse:
        """Lists users, newest first, filtered by role, status, category and text."""
        where = UserFilter(
            role=ROLE_OF.get(request.role),
            status=STATUS_OF.get(request.status),
            patron_category=request.patron_category,
            text=request.query.strip(),
        )
        query = handlers.ListUsers(where=where, page_size=request.page_size, page_token=request.page_token)
        page = await handlers.list_users(query, self._uow())
        return users_pb2.ListUsersResponse(
            users=[self._proto(u) for u in page.users], next_page_token=page.next_page_token, total_size=page.total_size
        )

    async def UpdateUser(
        self, request: users_pb2.UpdateUserRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.User:
        """Changes the fields named in update_mask."""
        command = handlers.UpdateUser(
            user_id=resolve_user_id(request.user.name, field="user.name"),
            changes=profile_from_proto(request.user),
            mask=update_mask_of(request),
            actor=current_actor(),
            etag=request.user.etag,
        )
        return self._proto(await handlers.update_user(command, self._uow(), self._clock))

    async def DeleteUser(
        self, request: users_pb2.DeleteUserRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.User:
        """Deactivates an account."""
        user = await handlers.delete_user(
            resolve_user_id(request.name), current_actor(), self._uow(), self._clock, etag=request.etag
        )
        return self._proto(user)

    async def GetBorrowingEligibility(
        self, request: users_pb2.GetBorrowingEligibilityRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.BorrowingEligibility:
        """May this patron borrow (mesh-internal, for loans)."""
        user, eligibility = await handlers.borrowing_eligibility(
            parse_user_name(request.name), self._uow(), self._clock
        )
        return users_pb2.BorrowingEligibility(
            name=user.name,
            eligible=eligibility.eligible,
            status=STATUSES[user.effective_status(self._clock.now())],
            reasons=eligibility.reasons,
            patron_category=user.profile.patron_category,
            role=ROLES[user.profile.role],
            expire_time=timestamp(user.profile.expire_at),
            home_branch=user.profile.home_branch,
        )


class AuthServicer(users_pb2_grpc.AuthServiceServicer):
    def __init__(self, *, uow: Callable[[], handlers.UsersUnitOfWork], deps: auth_handlers.AuthDeps) -> None:
        self._uow = uow
        self._deps = deps

    def _tokens(self, signed_in: auth_handlers.SignedIn) -> users_pb2.AuthTokens:
        return users_pb2.AuthTokens(
            access_token=signed_in.access.token,
            access_token_expire_time=timestamp(signed_in.access.expires_at),
            refresh_token=signed_in.refresh_token,
            refresh_token_expire_time=timestamp(signed_in.refresh_expires_at),
            token_type="Bearer",
        )

    def _user(self, user: User) -> users_pb2.User:
        return user_to_proto(user, now=self._deps.clock.now())

    async def Register(
        self, request: users_pb2.RegisterRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.RegisterResponse:
        """Self-service registration of a reader account."""
        prefs = request.notification_preferences if request.HasField("notification_preferences") else None
        profile = Profile(
            email=request.email,
            display_name=request.display_name,
            phone=request.phone,
            email_opt_in=prefs.email_opt_in if prefs else True,
            sms_opt_in=prefs.sms_opt_in if prefs else False,
        )
        command = auth_handlers.Register(profile, request.password, parse_request_id(request.request_id))
        signed_in = await auth_handlers.register(command, self._uow(), self._deps)
        return users_pb2.RegisterResponse(user=self._user(signed_in.user), tokens=self._tokens(signed_in))

    async def Login(
        self, request: users_pb2.LoginRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.LoginResponse:
        """Email and password -> tokens."""
        signed_in = await auth_handlers.login(request.email, request.password, self._uow(), self._deps)
        return users_pb2.LoginResponse(tokens=self._tokens(signed_in), user=self._user(signed_in.user))

    async def RefreshToken(
        self, request: users_pb2.RefreshTokenRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.RefreshTokenResponse:
        """Rotates a refresh token."""
        signed_in = await auth_handlers.refresh(request.refresh_token, self._uow(), self._deps)
        return users_pb2.RefreshTokenResponse(tokens=self._tokens(signed_in))

    async def Logout(self, request: users_pb2.LogoutRequest, context: grpc.aio.ServicerContext) -> empty_pb2.Empty:
        """Revokes the session of a refresh token."""
        await auth_handlers.logout(request.refresh_token, self._uow(), self._deps)
        return empty_pb2.Empty()

    async def GetJwks(self, request: users_pb2.GetJwksRequest, context: grpc.aio.ServicerContext) -> users_pb2.Jwks:
        """The public keys that verify access tokens."""
        keys = await auth_handlers.published_keys(self._deps)
        return users_pb2.Jwks(keys=[users_pb2.Jwk(**key) for key in keys])
