"""Settings every service shares; each service subclasses this once and builds it in main.py."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from services.support.runtime.branches import LibraryBranches
from services.support.runtime.clock import library_zone_name, zone_named
from services.support.runtime.event_loop import EventLoop

DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DEV_ONLY = "dev-only"
"""Marks the project's dev placeholders (passwords, passphrases): production refuses any secret holding it."""
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

Settings = TypeVar("Settings", bound=BaseSettings)


def read_settings(cls: type[Settings]) -> Settings:
    """The settings from the environment, or SystemExit (code 1) with one line per wrong setting, naming it and
    never its value: pydantic's own message echoes the raw input, secrets among it, into the container log."""
    try:
        return cls()
    except ValidationError as error:
        raise SystemExit(configuration_errors(error, prefix=cls.model_config.get("env_prefix", ""))) from None
    except ValueError as error:  # FileVariables: a secret file that cannot be read (its path, no content)
        raise SystemExit(f"configuration error: {error}") from None


def configuration_errors(error: ValidationError, *, prefix: str) -> str:
    lines = []
    for item in error.errors(include_input=False, include_url=False, include_context=False):
        message = item["msg"].removeprefix("Value error, ")
        setting = f"{prefix}{item['loc'][0]}".upper() if item["loc"] else ""
        named = not setting or message.startswith(setting)
        lines.append(f"configuration error: {message if named else f'{setting}: {message}'}")
    return "\n".join(lines)


def with_password(url: str, password: str) -> str:
    """`url` with `password` put in (quoted as a URL needs it); unchanged when the password is empty."""
    if not password:
        return url
    return make_url(url).set(password=password).render_as_string(hide_password=False)


class FileVariables(PydanticBaseSettingsSource):
    """`ATHENAEUM_<SETTING>_FILE=/run/secrets/…`: the setting's value is that file's content (compose and
    Kubernetes hand secrets over as files; the same convention as the Postgres image's POSTGRES_PASSWORD_FILE)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads every field at once

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in self.settings_cls.model_fields:
            variable = f"{self.config.get('env_prefix', '')}{name}_FILE".upper()
            if path := os.environ.get(variable):
                try:
                    values[name] = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
                except OSError as error:
                    raise ValueError(f"{variable}: cannot read {path}: {error.strerror}") from None
        return values


class BaseServiceSettings(BaseSettings):
    """Read from ATHENAEUM_* environment variables (or ATHENAEUM_*_FILE files); nothing else in a service reads
    the environment."""

    model_config = SettingsConfigDict(env_prefix="ATHENAEUM_", extra="ignore", frozen=True)

    environment: Literal["dev", "test", "production"] = "dev"
    socket: str = Field(
        "",
        description="The Unix domain socket the service listens on (in a folder only it and its sidecar share): "
        "only there does it believe the mesh identity and user claims its sidecar forwards. Empty: host:port.",
    )
    host: str = Field("127.0.0.1", description="With no socket: listen on loopback (tests, tools).")
    port: int = Field(50051, ge=0, le=65535)
    database_url: str = DEFAULT_DATABASE_URL
    database_password: SecretStr = Field(
        SecretStr(""), description="Put into database_url when set, so the URL itself can carry no secret."
    )
    db_pool_size: int = Field(
        20,
        ge=1,
        description="Connections the pool keeps open. Size it to the calls a process runs at once: a connection "
        "beyond it (see db_pool_overflow) is opened for one unit of work and closed after it, a new Postgres "
        "backend each time, and its statements are prepared again (the loan cycle: 1.18x the cycles/s at 20 "
        "than at 10, bench/README.md).",
    )
    db_pool_overflow: int = Field(
        10, ge=0, description="Connections opened beyond db_pool_size at peaks, closed once returned."
    )
    db_connection_max_idle_seconds: float = Field(
        180.0,
        gt=0,
        description="A connection idle longer than this (in the pool, or kept for the next unit of work) is "
        "closed instead of used, and a fresh one opened: a NAT, firewall, load balancer or PgBouncer between "
        "the service and Postgres may have dropped it without telling either end, and its next statement would "
        "wait minutes for an answer. Keep it below the shortest idle timeout on the way (180: under the 4 "
        "minutes of Azure's load balancer, AWS's NAT gateway 350 s). Busy connections are never idle this long.",
    )
    nats_url: str = "nats://127.0.0.1:4222"
    nats_user: str = Field("", description="The service's own NATS user, when nats_url carries none.")
    nats_password: SecretStr = Field(
        SecretStr(""),
        description="That user's password, when nats_url carries none (Helm: from a Secret); without a user, "
        "the server's token.",
    )
    nats_ca_file: Path | None = Field(
        None,
        description="Speak TLS to NATS (TLS first) and trust only a server whose certificate this PEM CA signed: "
        "the local mesh's NATS (the launcher sets it: its mesh CA), or a NATS of yours with TLS; unset: plain TCP.",
    )
    nats_tls_hostname: str = Field(
        "", description="The name in NATS's certificate, when it is not nats_url's host (with nats_ca_file)."
    )
    mesh_url: str = Field(
        "unix:/run/athenaeum/outbound.sock", description="The sidecar's outbound listener for calls to peers."
    )
    metrics_port: int = Field(0, ge=0, le=65535, description="Prometheus /metrics port; 0 turns the endpoint off.")
    metrics_host: str = Field("127.0.0.1", description="Where /metrics listens: where the scraper reaches it.")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL (any case).")
    request_log_sample_ratio: float = Field(
        0.01, ge=0.0, le=1.0, description="Share of successful calls logged (failed, slow and traced ones all are)."
    )
    slow_request_log_seconds: float = Field(0.5, gt=0, description="Calls at least this slow always get a log line.")
    shutdown_grace_seconds: float = 10.0
    default_deadline_seconds: float = Field(30.0, description="Applied when a caller sets no deadline.")
    mutation_budget_seconds: float = Field(
        30.0,
        gt=0,
        description="How long a mutation may run, even after its client left. A request_id whose first call "
        "died is free for a retry this long (+2 s) after that call claimed it.",
    )
    request_ids_kept_hours: float = Field(24.0, gt=0, description="How long a request_id's answer is kept.")
    outbox_kept_hours: float = Field(
        168.0, gt=0, description="How long a published event stays in the outbox table (JetStream has it)."
    )
    admission_limit: int = Field(
        32,
        ge=0,
        description="The most calls from the edge this process runs at once (fewer while they are slower than "
        "admission_target_seconds); more wait admission_wait_seconds, then are refused with RESOURCE_EXHAUSTED "
        "(429, Retry-After). 0: no limit.",
    )
    admission_wait_seconds: float = Field(0.2, ge=0, description="How long a call waits for a free slot.")
    admission_target_seconds: float = Field(
        0.35,
        gt=0,
        description="The time (90th percentile) admitted calls should take; the limit adapts to it. "
        "0.35 keeps their 99th percentile under a second (bench/README.md, Saturation).",
    )
    health_check_interval_seconds: float = 2.0
    outbox_poll_seconds: float = Field(
        2.0, description="Fallback poll; a commit in this process wakes the relay at once."
    )
    jetstream_replicas: int = Field(1, ge=1, le=5, description="Replicas of each JetStream stream (NATS cluster).")
    otlp_endpoint: str = Field("", description="OTLP/gRPC collector (e.g. http://jaeger:4317); empty: no export.")
    trace_sample_ratio: float = Field(1.0, ge=0.0, le=1.0, description="Share of new traces recorded.")
    service_version: str = Field("", description="Reported in traces; defaults to the package version.")
    event_loop: EventLoop = Field(
        "uvloop", description="The processes' event loop: uvloop (faster per call) or asyncio (the standard one)."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, FileVariables(settings_cls), dotenv_settings, file_secret_settings

    @model_validator(mode="before")
    @classmethod
    def _password_into_url(cls, data: Any) -> Any:
        password = data.get("database_password") if isinstance(data, dict) else None
        if isinstance(password, SecretStr):
            password = password.get_secret_value()
        if not password:
            return data
        try:
            url = with_password(data.get("database_url") or DEFAULT_DATABASE_URL, password)
        except ArgumentError:
            return data  # _a_database_url names the setting
        return {**data, "database_url": url}

    @field_validator("database_url")
    @classmethod
    def _a_database_url(cls, value: str) -> str:
        try:
            make_url(value)
        except ArgumentError:
            raise ValueError("not a database URL (postgresql+asyncpg://user@host:port/database)") from None
        return value

    @field_validator("log_level")
    @classmethod
    def _a_log_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return value.upper()

    @model_validator(mode="after")
    def _refuse_dev_defaults_in_production(self) -> BaseServiceSettings:
        if self.environment != "production":
            return self
        if "@127.0.0.1:5432/postgres" in self.database_url:
            raise ValueError("ATHENAEUM_DATABASE_URL must be set explicitly in production")
        if DEV_ONLY in (make_url(self.database_url).password or ""):
            raise ValueError("the database password must not be a dev placeholder in production")
        return self


class InTheLibraryZone(BaseModel):
    """The check and the zone of `library_time_zone` (ATHENAEUM_LIBRARY_TIME_ZONE) for the services that read it
    (users, loans, notifications), each declaring the field with what it does with it."""

    library_time_zone: str

    @field_validator("library_time_zone")
    @classmethod
    def _a_place(cls, value: str) -> str:
        return library_zone_name(value)

    @property
    def library_zone(self) -> ZoneInfo:
        """The library's time zone (checked when the settings were read)."""
        zone = zone_named(self.library_time_zone)
        assert zone is not None
        return zone


class OfTheLibraryBranches(BaseModel):
    """The check and the list of `library_branches` (ATHENAEUM_LIBRARY_BRANCHES) for the services that take
    branch codes from staff (catalog, loans, users: an account's home branch), each declaring the field with what
    it does with it."""

    library_branches: str

    @field_validator("library_branches")
    @classmethod
    def _branch_list(cls, value: str) -> str:
        LibraryBranches.parse(value)  # a ValueError names what is wrong with the list
        return value

    @property
    def branches(self) -> LibraryBranches:
        """The library's branches (checked when the settings were read)."""
        return LibraryBranches.parse(self.library_branches)
