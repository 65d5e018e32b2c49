"""The users service's settings: token lifetimes, key protection, sign-in throttling, the first admin, the
library's time zone and branches."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

from services.support.runtime.identity import MAX_ACCESS_TOKEN_LIFETIME
from services.support.runtime.settings import BaseServiceSettings, InTheLibraryZone, OfTheLibraryBranches

DEV_KEY_PASSPHRASE = "dev-only-signing-key-passphrase"
DEV_ADMIN_PASSWORD = "dev-only-admin-password"


class UsersSettings(BaseServiceSettings, InTheLibraryZone, OfTheLibraryBranches):
    """ATHENAEUM_* variables; production refuses every dev placeholder below."""

    access_token_ttl_seconds: int = Field(900, gt=0, description="Short-lived: revocation needs remembering this long.")
    refresh_token_ttl_seconds: int = Field(30 * 24 * 3600, gt=0)
    signing_key_passphrase: SecretStr = Field(
        SecretStr(DEV_KEY_PASSPHRASE),
        description="Encrypts the ES256 private keys stored in the users database (mount it from a secret).",
    )
    key_activation_delay_seconds: int = Field(
        120, ge=0, description="A rotated-in key is published this long before it signs (the edge caches the JWKS)."
    )
    sign_in_free_failures_per_account: int = Field(
        3, ge=0, description="Failed sign-ins to one account from one address before each next one waits (doubling)."
    )
    sign_in_free_failures_per_client: int = Field(
        50, ge=0, description="Failed sign-ins from one address, any account, before each next one waits (doubling)."
    )
    sign_in_max_delay_seconds: int = Field(900, gt=0, description="The longest wait a throttled client is given.")
    announce_timeout_seconds: float = Field(
        5.0,
        gt=0,
        description="How long a change of an account waits for its event to reach the message bus before it is "
        "answered UNAVAILABLE (saved, not yet known to circulation).",
    )
    peer_timeout_seconds: float = Field(
        5.0, gt=0, description="Deadline of each call to loans (closing an account asks what the patron has out)."
    )
    password_reset_ttl_seconds: int = Field(
        1800, gt=0, le=24 * 3600, description="How long a password reset link works (it works once)."
    )
    password_reset_answer_seconds: float = Field(
        0.25,
        ge=0,
        le=5,
        description="RequestPasswordReset answers no sooner than this, whether or not an account has the email "
        "(its timing must not tell).",
    )
    bootstrap_admin_email: str = Field("admin@athenaeum.local", description="Created as an admin if missing.")
    bootstrap_admin_password: SecretStr = Field(
        SecretStr(DEV_ADMIN_PASSWORD), description="Empty: no bootstrap admin (create one with the admin CLI)."
    )
    library_time_zone: str = Field(
        "UTC",
        description="The library's time zone (IANA name of a place, e.g. Europe/Moscow, the one loans reads): a "
        "membership given an expire_time lasts to the end (23:59:59) of the day there on which it falls.",
    )
    library_branches: str = Field(
        "",
        description="The library's branch codes, separated by commas (e.g. MAIN,EAST; any letter case matches): an "
        "account's home branch (where a reader's holds are picked up by default, a librarian's desk) must be one "
        "of them when it is set or changed, or the call is refused, and is kept in the list's spelling. Empty: any "
        "code, trimmed.",
    )

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> UsersSettings:
        if self.access_token_ttl_seconds > MAX_ACCESS_TOKEN_LIFETIME.total_seconds():
            raise ValueError(f"access tokens may live at most {MAX_ACCESS_TOKEN_LIFETIME}")
        if self.environment != "production":
            return self
        if self.signing_key_passphrase.get_secret_value() in ("", DEV_KEY_PASSPHRASE):
            raise ValueError("ATHENAEUM_SIGNING_KEY_PASSPHRASE must be set to a secret in production")
        if self.bootstrap_admin_password.get_secret_value() == DEV_ADMIN_PASSWORD:
            raise ValueError("ATHENAEUM_BOOTSTRAP_ADMIN_PASSWORD must not be the dev placeholder in production")
        return self
