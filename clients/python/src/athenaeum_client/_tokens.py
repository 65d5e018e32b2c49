"""The tokens of a signed-in session and when to renew them (shared by Client and AsyncClient)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .generated.athenaeum.users import v1 as users

REFRESH_MARGIN = dt.timedelta(seconds=60)
"""Renew the access token this long before it expires, so a call never leaves with one about to die."""


@dataclass
class Tokens:
    """The current access and refresh tokens; empty until signed in."""

    access_token: str = ""
    refresh_token: str = ""
    access_token_expire_time: dt.datetime | None = None

    def update(self, tokens: users.AuthTokens | None) -> None:
        if tokens is None:
            raise ValueError("the server returned no tokens")
        self.access_token = tokens.access_token
        self.refresh_token = tokens.refresh_token
        self.access_token_expire_time = tokens.access_token_expire_time

    def clear(self) -> None:
        self.access_token, self.refresh_token, self.access_token_expire_time = "", "", None

    def needs_refresh(self, now: dt.datetime | None = None) -> bool:
        """True when a refresh token is held and the access token expires within the margin."""
        if not self.refresh_token or self.access_token_expire_time is None:
            return False
        now = now or dt.datetime.now(dt.timezone.utc)  # noqa: UP017 (the client supports Python 3.10)
        return self.access_token_expire_time - now <= REFRESH_MARGIN

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.access_token}"),) if self.access_token else ()


# Calls that must not carry (or renew) the session's token: signing in, renewing it, and signing out (the
# refresh token in the request names the session; a refused access token must not renew the session that is
# being ended).
UNAUTHENTICATED_PATHS = frozenset(
    f"/athenaeum.users.v1.AuthService/{name}" for name in ("Login", "Register", "RefreshToken", "Logout", "GetJwks")
)
