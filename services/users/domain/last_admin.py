"""The library always keeps an admin who can sign in: the rule every change of a role or a status obeys. Pure."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from services.support.runtime.errors import FailedPrecondition
from services.support.runtime.identity import Role
from services.users.domain.accounts import User
from services.users.domain.profile import Profile, UserStatus


def is_active_admin(profile: Profile, *, now: datetime) -> bool:
    """An admin who can sign in at `now` (ACTIVE and not past `expire_at`): who can administer the library.
    An expired admin is refused at sign-in, so counting one would let the last usable admin step down."""
    return profile.role == Role.ADMIN and profile.effective_status(now) == UserStatus.ACTIVE


def ensure_an_admin_remains(
    user: User, before: Profile, *, active_admins: Collection[uuid.UUID], now: datetime
) -> None:
    """Refuse a change (`user` as changed, `before` as it was) that would leave the library without an
    active admin, so that nobody could administer it any more: demoting, blocking, deactivating or
    expiring the last."""
    if not is_active_admin(before, now=now) or is_active_admin(user.profile, now=now):
        return
    if set(active_admins) <= {user.id}:
        raise FailedPrecondition(f"{user.name} is the last active admin: make another admin first", reason="LAST_ADMIN")
