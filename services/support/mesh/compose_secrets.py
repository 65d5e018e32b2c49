"""How the compose project hands secrets over: files under SECRETS_DIR (never committed, no defaults), given
to the containers as compose secrets and read there from /run/secrets through ATHENAEUM_*_FILE settings."""

from __future__ import annotations

from pathlib import Path

from services.support.mesh import edge_tls, registry

SECRETS_DIR = "${ATHENAEUM_SECRETS_DIR:-./secrets}"
"""Secrets are files there (never committed), handed to the containers as compose secrets: no default password."""
SECRETS_MOUNT = Path("/run/secrets")
DATABASE_PASSWORD_SECRET = "postgres-password"


def secret_name(setting: str) -> str:
    """The compose secret holding a setting: ATHENAEUM_SIGNING_KEY_PASSPHRASE → signing-key-passphrase."""
    return setting.removeprefix("ATHENAEUM_").lower().replace("_", "-")


def nats_password_secret(service: str) -> str:
    """The compose secret of a service's NATS password (its NATS user is its name)."""
    return f"nats-password-{service}"


def database_password_secret(service: str) -> str:
    """The compose secret of a service's own Postgres password (its role is named as its database)."""
    return f"postgres-password-{service}"


DATABASE_ROLE_PASSWORDS = str(SECRETS_MOUNT / database_password_secret("{service}"))
"""Where the migration job finds each service's password (`migrate --role-passwords`)."""


def secret_files() -> dict[str, str]:
    """Every compose secret, by name, and the file it is read from."""
    names = [
        DATABASE_PASSWORD_SECRET,
        *(database_password_secret(spec.name) for spec in registry.SERVICES),
        *(nats_password_secret(spec.name) for spec in registry.SERVICES),
        *(secret_name(setting) for spec in registry.SERVICES for setting in spec.secret_settings),
        edge_tls.CERT_SECRET,
        edge_tls.KEY_SECRET,
    ]
    return {name: f"{SECRETS_DIR}/{name}" for name in names}


def service_secrets(spec: registry.ServiceSpec) -> list[str]:
    """The compose secrets a service's container gets."""
    own = [database_password_secret(spec.name), nats_password_secret(spec.name)]
    return [*own, *(secret_name(n) for n in spec.secret_settings)]
