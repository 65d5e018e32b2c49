"""The notifications service's settings: the mail server, the SMS provider, delivery and SMS rules, and
what the library says about itself."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator

from services.notifications.app.notifying import Rules
from services.notifications.data.email import SmtpSettings
from services.notifications.data.sms import SmsSettings
from services.notifications.domain.delivery import RetryPolicy, SmsPolicy
from services.support.runtime.settings import BaseServiceSettings, InTheLibraryZone

DEV_SMS_TOKEN = "dev-only-sms-token"


class NotificationsSettings(BaseServiceSettings, InTheLibraryZone):
    """ATHENAEUM_* variables; the SMTP and SMS credentials are secrets (compose and Helm mount them)."""

    library_name: str = Field("Athenaeum Library", description="Signs every message.")
    web_url: str = Field(
        "http://localhost:8080",
        description="The web client's public address (the edge's, as readers reach it), without a trailing slash: "
        "links in messages start with it (a password reset's, and List-Unsubscribe's to the account page).",
    )
    default_locale: str = Field("en", description="For users who chose no language: en or ru.")
    library_time_zone: str = Field(
        "UTC",
        description="The library's time zone (IANA name), the one loans reads too: notices give dates and keep "
        "SMS quiet hours there for users who chose no time zone of their own.",
    )
    default_time_zone: str = Field(
        "", description="Deprecated: the former name of library_time_zone, read only when that is not set."
    )

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    smtp_socket: str = Field(
        "",
        description="A Unix socket to send mail to instead of host:port: the local mesh's mail sink, in a folder "
        "only the mesh's account may enter (on loopback any account could stand in for it).",
    )
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: Literal["auto", "always", "never"] = Field("auto", description="auto: when the server offers it.")
    smtp_implicit_tls: bool = Field(False, description="TLS from the first byte (port 465).")
    smtp_from_address: str = "library@athenaeum.local"
    smtp_from_name: str = "Athenaeum Library"
    smtp_pool_size: int = Field(
        32,
        ge=1,
        le=64,
        description="SMTP connections kept open and reused: an email costs four round trips, so the rate is "
        "about this many over the relay's reply time. The relay must take this many from one client per "
        "process (Postfix's smtpd_client_connection_count_limit is 50 by default).",
    )
    smtp_data_timeout_seconds: float = Field(
        600.0,
        gt=0,
        description="How long to wait for the mail server's reply to the end of a message (RFC 5321: 10 minutes; "
        "a relay may scan or sign it first). Without a reply the message may have been delivered: it counts as "
        "a try and is sent again (same Message-ID) only after a wait of at least 5 minutes.",
    )

    sms_base_url: str = Field("http://127.0.0.1:2580", description="The provider's API (Twilio-style).")
    sms_socket: str = Field(
        "", description="A Unix socket to reach that API at (the local mesh's SMS sink); the base URL names its paths."
    )
    sms_account_sid: str = "ACathenaeumdev"
    sms_auth_token: SecretStr = SecretStr(DEV_SMS_TOKEN)
    sms_from_number: str = "+15005550006"
    sms_pool_size: int = Field(16, ge=1, le=128)
    sms_max_per_hour: int = Field(
        5,
        ge=1,
        description="Routine SMS sent to one recipient (or number) per hour; the rest wait for a later slot. "
        "Hold, overdue and security SMS are never held back.",
    )
    sms_max_segments: int = Field(
        2,
        ge=1,
        le=10,
        description="Segments (each billed by the provider: 160 characters of GSM-7, 70 once a character is "
        "outside it, 153/67 each when several) a notice's SMS may take: a long book title is shortened, with an "
        "ellipsis, to fit. Staff messages are never shortened.",
    )
    sms_quiet_hours: str = Field(
        "22:00-08:00", description="No SMS then, in the recipient's time zone (they wait); empty: none."
    )

    max_attempts: int = Field(
        RetryPolicy().max_attempts,
        ge=1,
        le=50,
        description="Tries before a temporarily refused notification (an SMTP 4xx, the provider's 5xx or 429) "
        "fails for good; with the default waits, up to about a day of trying (a greylisting or full mailbox "
        "says try later; RFC 5321 keeps trying for days). A permanent refusal fails at once.",
    )
    retry_base_seconds: float = Field(
        RetryPolicy().base.total_seconds(), gt=0, description="The wait after the first try; it doubles each try."
    )
    retry_cap_seconds: float = Field(RetryPolicy().cap.total_seconds(), gt=0, description="The longest wait.")
    hold_expiry_notice_hours: float = Field(24.0, ge=0, description="Remind this long before a pickup deadline.")
    notice_batch_window_seconds: float = Field(
        60.0,
        ge=0,
        le=3600,
        description="A loan notice (issued, renewed, due soon, overdue) waits this long, and the same reader's "
        "notices of its kind and channel made meanwhile go out with it as one message listing the books; "
        "0: one message per notice.",
    )

    dispatch_concurrency: int = Field(
        64, ge=1, le=512, description="Sends in flight per channel (claimed half of it at a time)."
    )
    claim_lease_seconds: float = Field(30.0, gt=0, description="A claim another process may take after this.")
    dispatch_poll_seconds: float = 1.0
    reminder_poll_seconds: float = 30.0
    consumer_batch: int = Field(128, ge=1, le=1024, description="Events fetched (and stored) together.")
    notifications_kept_days: int = Field(
        365,
        ge=1,
        le=36_500,
        description="How long a sent, failed or suppressed notification (its address and text) is kept: a year "
        "of what each patron was told, for the desk's questions; the audit trail keeps that it was sent. At most "
        "a century (much more and the hourly clean-up's cut-off leaves the calendar: it failed every hour).",
    )
    instance_name: str = Field("", description="Owner of this process's claims; default host:port.")
    consumer_group: str = Field(
        "notifications",
        description="Prefix of the durable JetStream consumers (one group per deployment). The NATS users of "
        "deploy/nats/authorization.conf let notifications fetch from, acknowledge and delete only the default "
        "group's: another group needs its `$JS.API.CONSUMER.MSG.NEXT.*.<group>-loans`, "
        "`$JS.API.CONSUMER.DELETE.*.<group>-loans`, `$JS.ACK.*.<group>-loans.>` and the same for `-users` and "
        "`-catalog` there.",
    )

    @model_validator(mode="before")
    @classmethod
    def _read_the_former_name(cls, values: Any) -> Any:
        """ATHENAEUM_DEFAULT_TIME_ZONE set notifications' zone alone before it followed the library's: it still
        counts where ATHENAEUM_LIBRARY_TIME_ZONE is not set, and may not contradict it where it is."""
        if not isinstance(values, dict) or not values.get("default_time_zone"):
            return values
        former, library = values["default_time_zone"], values.get("library_time_zone")
        if library is None:
            return {**values, "library_time_zone": former}
        if library != former:
            raise ValueError(
                "ATHENAEUM_DEFAULT_TIME_ZONE is the former name of ATHENAEUM_LIBRARY_TIME_ZONE and differs from it: "
                "set only ATHENAEUM_LIBRARY_TIME_ZONE"
            )
        return values

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> NotificationsSettings:
        self.quiet_hours()  # a malformed value fails at start, not at the first SMS
        if self.environment == "production" and self.sms_auth_token.get_secret_value() == DEV_SMS_TOKEN:
            raise ValueError("ATHENAEUM_SMS_AUTH_TOKEN must be set to the provider's token in production")
        return self

    def quiet_hours(self) -> tuple[time | None, time | None]:
        if not self.sms_quiet_hours.strip():
            return None, None
        start, _, end = self.sms_quiet_hours.partition("-")
        try:
            return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
        except ValueError:
            raise ValueError("ATHENAEUM_SMS_QUIET_HOURS must look like 22:00-08:00 (or be empty)") from None

    def rules(self) -> Rules:
        quiet_start, quiet_end = self.quiet_hours()
        return Rules(
            retry=RetryPolicy(
                max_attempts=self.max_attempts,
                base=timedelta(seconds=self.retry_base_seconds),
                cap=timedelta(seconds=self.retry_cap_seconds),
            ),
            sms=SmsPolicy(
                max_per_hour=self.sms_max_per_hour,
                quiet_start=quiet_start,
                quiet_end=quiet_end,
                max_segments=self.sms_max_segments,
            ),
            library_name=self.library_name,
            default_locale=self.default_locale,
            library_time_zone=self.library_time_zone,
            hold_expiry_notice=timedelta(hours=self.hold_expiry_notice_hours),
            web_url=self.web_url.rstrip("/"),
            batch_window=timedelta(seconds=self.notice_batch_window_seconds),
        )

    def smtp(self) -> SmtpSettings:
        starttls = {"auto": None, "always": True, "never": False}[self.smtp_starttls]
        return SmtpSettings(
            host=self.smtp_host,
            port=self.smtp_port,
            socket_path=self.smtp_socket,
            from_address=self.smtp_from_address,
            from_name=self.smtp_from_name,
            username=self.smtp_username,
            password=self.smtp_password.get_secret_value(),
            starttls=starttls,
            implicit_tls=self.smtp_implicit_tls,
            pool_size=self.smtp_pool_size,
            data_timeout_seconds=self.smtp_data_timeout_seconds,
            preferences_url=f"{self.web_url.rstrip('/')}/#/account" if self.web_url.strip() else "",
        )

    def sms(self) -> SmsSettings:
        return SmsSettings(
            base_url=self.sms_base_url,
            socket_path=self.sms_socket,
            account_sid=self.sms_account_sid,
            auth_token=self.sms_auth_token.get_secret_value(),
            from_number=self.sms_from_number,
            pool_size=self.sms_pool_size,
        )
