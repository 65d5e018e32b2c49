"""Settings every service shares; each service subclasses this once and builds it in main.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class BaseServiceSettings(BaseSettings):
    """Read from ATHENAEUM_* environment variables; nothing else in a service reads the environment."""

    model_config = SettingsConfigDict(env_prefix="ATHENAEUM_", extra="ignore", frozen=True)

    environment: Literal["dev", "test", "production"] = "dev"
    host: str = Field("127.0.0.1", description="The service listens on loopback; its sidecar faces the network.")
    port: int = 50051
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    db_pool_size: int = 10
    nats_url: str = "nats://127.0.0.1:4222"
    mesh_url: str = Field("127.0.0.1:15001", description="The sidecar's outbound listener for calls to peers.")
    metrics_port: int = Field(0, description="Prometheus /metrics port; 0 turns the endpoint off.")
    log_level: str = "INFO"
    shutdown_grace_seconds: float = 10.0
    default_deadline_seconds: float = Field(30.0, description="Applied when a caller sets no deadline.")
    health_check_interval_seconds: float = 2.0
    outbox_poll_seconds: float = Field(
        2.0, description="Fallback poll; a commit in this process wakes the relay at once."
    )
    jetstream_replicas: int = Field(1, ge=1, le=5, description="Replicas of each JetStream stream (NATS cluster).")
    otlp_endpoint: str = Field("", description="OTLP/gRPC collector (e.g. http://jaeger:4317); empty: no export.")
    trace_sample_ratio: float = Field(1.0, ge=0.0, le=1.0, description="Share of new traces recorded.")
    service_version: str = Field("", description="Reported in traces; defaults to the package version.")

    @model_validator(mode="after")
    def _refuse_dev_defaults_in_production(self) -> BaseServiceSettings:
        if self.environment == "production" and "@127.0.0.1:5432/postgres" in self.database_url:
            raise ValueError("ATHENAEUM_DATABASE_URL must be set explicitly in production")
        return self
