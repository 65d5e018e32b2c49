"""Users and Auth servicers: proto -> command -> use case -> proto. No rules, no SQL, no status codes here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo

import grpc
from google.protobuf import empty_pb2

from athenaeum.users.v1 import users_pb2, users_pb2_grpc
from services.support.runtime.branches import ANY_BRANCH, LibraryBranches
from services.support.runtime.clock import Clock
from services.support.runtime.idempotency import parse_request_id
from services.support.runtime.identity import ANONYMOUS, acting_user, current_client_address
from services.users.api import convert
from services.users.app import accounts, credentials, password_resets, signing_in, signing_keys
from services.users.app.ports import Circulation, Passwords, SigningKeys, UsersUnitOfWork
from services.users.domain.accounts import USER, User
from services.users.domain.password_resets import ResetPolicy
from services.users.domain.sessions import TokenLifetimes
from services.users.domain.throttling import SignInThrottling


class UsersServicer(users_pb2_grpc.UsersServiceServicer):
    def __init__(
        self,
        *,
        uow: Callable[[], UsersUnitOfWork],
        clock: Clock,
        passwords: Passwords,
        throttling: SignInThrottling,
        circulation: Circulation,
        library_zone: tzinfo,
        branches: LibraryBranches = ANY_BRANCH,
    ) -> None:
        """`branches`: the library's, which an account's home branch must be one of when it lists them."""
        self._uow = uow
        self._branches = branches
        self._circulation = circulation
        self._clock = clock
        self._passwords = passwords
        self._throttling = throttling
        self._library_zone = library_zone

    def _proto(self, user: User) -> users_pb2.User:
        return convert.user_to_proto(user, now=self._clock.now())

    async def CreateUser(
        self, request: users_pb2.CreateUserRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.User:
        """Creates an account at the desk."""
        command = accounts.CreateUser(
            profile=convert.profile_from_proto(request.user),
            password=request.password,
            actor=convert.current_actor(),
            request_id=parse_request_id(request.request_id),
        )
        user = await accounts.create_user(
            command,
            uow=self._uow(),
            clock=self._clock,
            passwords=self._passwords,
            library_zone=self._library_zone,
            branches=self._branches,
        )
        return self._proto(user)

    async def GetUser(self, request: users_pb2.GetUserRequest, context: grpc.aio.ServicerContext) -> users_pb2.User:
        """Returns one user ("users/me": the caller)."""
        command = accounts.GetUser(convert.resolve_user_id(request.name))
        return self._proto(await accounts.get_user(command, uow=self._uow()))

    async def ListUsers(
        self, request: users_pb2.ListUsersRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.ListUsersResponse:
        """Lists users, newest first, filtered by role, status, category and text."""
        command = accounts.ListUsers(
            where=convert.user_filter(request), page_size=request.page_size, page_token=request.page_token
        )
        page = await accounts.list_users(command, uow=self._uow(), clock=self._clock)
        return users_pb2.ListUsersResponse(
            users=[self._proto(u) for u in page.items], next_page_token=page.next_page_token, total_size=page.total_size
        )

    async def UpdateUser(
        self, request: users_pb2.UpdateUserRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.User:
        """Changes the fields named in update_mask."""
        mask = convert.update_mask_of(request)
        command = accounts.UpdateUser(
            user_id=convert.resolve_user_id(request.user.name, field="user.name"),
            changes=convert.profile_from_proto(request.user, masked=mask),
            mask=mask,
            actor=convert.current_actor(),
            etag=request.user.etag,
            current_password=request.current_password,
            client=current_client_address(),
        )
        user = await accounts.update_user(
            command,
            uow=self._uow(),
            clock=self._clock,
            passwords=self._passwords,
            throttling=self._throttling,
            library_zone=self._library_zone,
            branches=self._branches,
        )
        return self._proto(user)

    async def ChangePassword(
        self, request: users_pb2.ChangePasswordRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        """Changes the caller's own password and signs out their other sessions."""
        command = credentials.ChangePassword(
            user_id=convert.resolve_user_id(request.name),
            current_password=request.current_password,
            new_password=request.new_password,
            actor=convert.current_actor(),
            session_id=convert.current_session_id(),
            client=current_client_address(),
            request_id=parse_request_id(request.request_id),
        )
        await credentials.change_password(
            command, uow=self._uow(), clock=self._clock, passwords=self._passwords, throttling=self._throttling
        )
        return empty_pb2.Empty()

    async def DeleteUser(
        self, request: users_pb2.DeleteUserRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.User:
        """Deactivates an account."""
        command = accounts.DeleteUser(
            convert.resolve_user_id(request.name), actor=convert.current_actor(), etag=request.etag
        )
        deleted = await accounts.delete_user(command, uow=self._uow(), clock=self._clock, circulation=self._circulation)
        return self._proto(deleted)

    async def GetBorrowingEligibility(
        self, request: users_pb2.GetBorrowingEligibilityRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.BorrowingEligibility:
        """May this patron borrow (mesh-internal, for loans)."""
        command = accounts.GetBorrowingEligibility(USER.parse_id(request.name))
        user, eligibility = await accounts.get_borrowing_eligibility(command, uow=self._uow(), clock=self._clock)
        return convert.eligibility_to_proto(user, eligibility)


class AuthServicer(users_pb2_grpc.AuthServiceServicer):
    def __init__(
        self,
        *,
        uow: Callable[[], UsersUnitOfWork],
        clock: Clock,
        passwords: Passwords,
        keys: SigningKeys,
        lifetimes: TokenLifetimes,
        throttling: SignInThrottling,
        resets: ResetPolicy | None = None,
        reset_answer_floor: float = 0.0,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._passwords = passwords
        self._keys = keys
        self._lifetimes = lifetimes
        self._throttling = throttling
        self._resets = resets or ResetPolicy()
        self._reset_answer_floor = reset_answer_floor

    def _user(self, user: User) -> users_pb2.User:
        return convert.user_to_proto(user, now=self._clock.now())

    async def Register(
        self, request: users_pb2.RegisterRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.RegisterResponse:
        """Self-service registration of a reader account."""
        command = signing_in.Register(
            convert.registration_profile(request), request.password, parse_request_id(request.request_id)
        )
        signed_in = await signing_in.register(
            command,
            uow=self._uow(),
            clock=self._clock,
            passwords=self._passwords,
            keys=self._keys,
            lifetimes=self._lifetimes,
        )
        return users_pb2.RegisterResponse(user=self._user(signed_in.user), tokens=convert.tokens_to_proto(signed_in))

    async def Login(
        self, request: users_pb2.LoginRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.LoginResponse:
        """Email and password -> tokens."""
        signed_in = await signing_in.sign_in(
            signing_in.SignIn(request.email, request.password, client=current_client_address()),
            uow=self._uow(),
            clock=self._clock,
            passwords=self._passwords,
            keys=self._keys,
            lifetimes=self._lifetimes,
            throttling=self._throttling,
        )
        return users_pb2.LoginResponse(tokens=convert.tokens_to_proto(signed_in), user=self._user(signed_in.user))

    async def RefreshToken(
        self, request: users_pb2.RefreshTokenRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.RefreshTokenResponse:
        """Rotates a refresh token."""
        signed_in = await signing_in.refresh_session(
            signing_in.RefreshSession(request.refresh_token),
            uow=self._uow(),
            clock=self._clock,
            keys=self._keys,
            lifetimes=self._lifetimes,
        )
        return users_pb2.RefreshTokenResponse(tokens=convert.tokens_to_proto(signed_in))

    async def Logout(self, request: users_pb2.LogoutRequest, context: grpc.aio.ServicerContext) -> empty_pb2.Empty:
        """Revokes the session of a refresh token."""
        await signing_in.sign_out(signing_in.SignOut(request.refresh_token), uow=self._uow(), clock=self._clock)
        return empty_pb2.Empty()

    async def RequestPasswordReset(
        self, request: users_pb2.RequestPasswordResetRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        """Mails a reset link to the account with this email, if any; the same answer either way."""
        await password_resets.request_password_reset(
            password_resets.RequestPasswordReset(
                request.email, requested_by=acting_user() or ANONYMOUS, client=current_client_address()
            ),
            uow=self._uow(),
            clock=self._clock,
            policy=self._resets,
            answer_floor=self._reset_answer_floor,
        )
        return empty_pb2.Empty()

    async def ResetPassword(
        self, request: users_pb2.ResetPasswordRequest, context: grpc.aio.ServicerContext
    ) -> empty_pb2.Empty:
        """Sets a new password with a reset link's token."""
        await password_resets.reset_password(
            password_resets.ResetPassword(request.token, request.new_password),
            uow=self._uow(),
            clock=self._clock,
            passwords=self._passwords,
        )
        return empty_pb2.Empty()

    async def GetJwks(self, request: users_pb2.GetJwksRequest, context: grpc.aio.ServicerContext) -> users_pb2.Jwks:
        """The public keys that verify access tokens."""
        keys = await signing_keys.list_public_keys(keys=self._keys, clock=self._clock, lifetimes=self._lifetimes)
        return users_pb2.Jwks(keys=[users_pb2.Jwk(**key) for key in keys])
