"""docker-compose and Helm, generated from the service registry like the Envoy configs.

What depends on the list of services is written here: docker-compose.yml, the Prometheus scrape config,
the Postgres init script, the `services:` block of the chart's values.yaml and the chart's copies of the
Envoy configs and descriptor set (a chart cannot read files outside its folder). `athenaeum generate`
writes them and its `--check` (a test) fails when a committed one drifts from the registry.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from services.support.mesh import registry
from services.support.mesh.envoy import CONTAINER_CERT_DIR, CONTAINER_DESCRIPTOR_PATH
from services.support.mesh.topology import (
    CONTAINER_ADMIN_PORT,
    CONTAINER_APP_PORT,
    CONTAINER_EDGE_PORT,
    CONTAINER_INBOUND_PORT,
    CONTAINER_METRICS_PORT,
    CONTAINER_OPS_PORT,
    CONTAINER_OUTBOUND_PORT,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
COMPOSE_FILE = Path("docker-compose.yml")
PROMETHEUS_FILE = Path("deploy/prometheus/prometheus.yml")
POSTGRES_INIT_FILE = Path("deploy/postgres/create-databases.sql")
DASHBOARD_FILE = Path("deploy/grafana/dashboards/athenaeum-mesh.json")
CHART_DIR = Path("helm/athenaeum")
CHART_VALUES = CHART_DIR / "values.yaml"
CHART_FILES = CHART_DIR / "files"
GENERATED = (COMPOSE_FILE, PROMETHEUS_FILE, POSTGRES_INIT_FILE, CHART_VALUES, CHART_FILES)

HEADER = "# Generated from services/support/mesh/registry.py by `athenaeum generate` — do not edit.\n"
VALUES_BEGIN = (
    "# BEGIN services — generated from services/support/mesh/registry.py by `athenaeum generate`; do not edit.\n"
)
VALUES_END = "# END services\n"

IMAGE = "athenaeum:${ATHENAEUM_VERSION:-local}"
ENVOY_IMAGE = "envoyproxy/envoy:v1.36-latest"
POSTGRES_IMAGE = "postgres:17-alpine"
NATS_IMAGE = "nats:2.11-alpine"
APP_UID = "10001:10001"
"""The image's non-root user; Envoy runs as it too, to read the keys the certs job wrote (mode 0600)."""
ENVOY_CONFIG_DIR = "/etc/athenaeum/envoy"
CA_DIR = "/var/lib/athenaeum/ca"
POSTGRES_USER = "athenaeum"
CONTAINER_COMMAND = ("python", "-m", "services.support.mesh.containers")
POSTGRES_PASSWORD = "${POSTGRES_PASSWORD:-athenaeum-dev-only}"


# docker-compose -------------------------------------------------------------------------------------


def compose() -> dict[str, Any]:
    """The whole docker-compose project: infrastructure, one-shot jobs, every service with its sidecar."""
    services: dict[str, Any] = {**_infrastructure(), **_jobs()}
    for spec in registry.SERVICES:
        services[spec.name] = _app(spec)
        services[f"{spec.name}-sidecar"] = _sidecar(spec)
    services["edge"] = _edge()
    services.update(_observability())
    services.update(_outside_world())
    volumes = ["postgres-data", "nats-data", "mesh-certs", "mesh-ca", "prometheus-data", "grafana-data"]
    return {"name": "athenaeum", "services": services, "volumes": {name: {} for name in volumes}}


def _healthcheck(test: list[str], *, interval: str = "5s", retries: int = 30) -> dict[str, Any]:
    return {"test": test, "interval": interval, "timeout": "3s", "retries": retries, "start_period": "5s"}


def _healthy(*names: str) -> dict[str, Any]:
    return {name: {"condition": "service_healthy"} for name in names}


def _admin_url(database: str) -> str:
    return f"postgresql+asyncpg://{POSTGRES_USER}:{POSTGRES_PASSWORD}@postgres:5432/{database}"


def _infrastructure() -> dict[str, Any]:
    nats_health = "http://127.0.0.1:8222/healthz?js-enabled-only=true"
    return {
        "postgres": {
            "image": POSTGRES_IMAGE,
            "environment": {"POSTGRES_USER": POSTGRES_USER, "POSTGRES_PASSWORD": POSTGRES_PASSWORD},
            "volumes": [
                "postgres-data:/var/lib/postgresql/data",
                f"./{POSTGRES_INIT_FILE}:/docker-entrypoint-initdb.d/10-create-databases.sql:ro",
            ],
            "healthcheck": _healthcheck(["CMD", "pg_isready", "-U", POSTGRES_USER, "-d", "postgres"]),
            "restart": "unless-stopped",
        },
        "nats": {
            "image": NATS_IMAGE,
            "command": ["--jetstream", "--store_dir", "/data", "--http_port", "8222"],
            "volumes": ["nats-data:/data"],
            "healthcheck": _healthcheck(["CMD", "wget", "-q", "-O", "/dev/null", nats_health]),
            "restart": "unless-stopped",
        },
    }


def _athenaeum_image() -> dict[str, Any]:
    return {"image": IMAGE, "build": {"context": "."}}


def _jobs() -> dict[str, Any]:
    return {
        "certs": {
            **_athenaeum_image(),
            "command": [*CONTAINER_COMMAND, "certs", str(CONTAINER_CERT_DIR), "--ca-dir", CA_DIR],
            "volumes": [f"mesh-certs:{CONTAINER_CERT_DIR}", f"mesh-ca:{CA_DIR}"],
            "healthcheck": {"disable": True},
            "restart": "no",
        },
        "migrate": {
            **_athenaeum_image(),
            "command": ["python", "-m", "services.support.launcher.cli", "migrate"],
            "environment": {"DATABASE_URL": _admin_url("postgres")},
            "depends_on": _healthy("postgres"),
            "healthcheck": {"disable": True},
            "restart": "no",
        },
    }


def service_environment(spec: registry.ServiceSpec) -> dict[str, str]:
    """The ATHENAEUM_* settings of a service in its container (see BaseServiceSettings)."""
    return {
        "ATHENAEUM_ENVIRONMENT": "${ATHENAEUM_ENVIRONMENT:-production}",
        "ATHENAEUM_HOST": "127.0.0.1",  # only the sidecar faces the network
        "ATHENAEUM_PORT": str(CONTAINER_APP_PORT),
        "ATHENAEUM_DATABASE_URL": _admin_url(spec.database),
        "ATHENAEUM_NATS_URL": "nats://nats:4222",
        "ATHENAEUM_MESH_URL": f"127.0.0.1:{CONTAINER_OUTBOUND_PORT}",
        "ATHENAEUM_METRICS_PORT": str(CONTAINER_METRICS_PORT),
        "ATHENAEUM_OTLP_ENDPOINT": "http://jaeger:4317",
        "ATHENAEUM_SERVICE_VERSION": "${ATHENAEUM_VERSION:-local}",
        "ATHENAEUM_LOG_LEVEL": "${ATHENAEUM_LOG_LEVEL:-INFO}",
        # Secrets come from the operator's environment (or an .env file); compose refuses to start without them.
        **{name: f"${{{name}?required secret}}" for name in spec.secret_settings},
        **{name: f"${{{name}:-{default}}}" for name, default in spec.settings},
    }


def _app(spec: registry.ServiceSpec) -> dict[str, Any]:
    # The app container owns the network namespace (and the DNS name peers dial); its sidecar joins it.
    return {
        **_athenaeum_image(),
        "command": ["python", "-m", spec.module],
        "environment": service_environment(spec),
        "depends_on": {
            "migrate": {"condition": "service_completed_successfully"},
            "nats": {"condition": "service_healthy"},
        },
        "healthcheck": _healthcheck(["CMD", *CONTAINER_COMMAND, "health"]),
        "stop_grace_period": "20s",
        "restart": "unless-stopped",
    }


def _envoy(config: str, *, admin_port: int) -> dict[str, Any]:
    # The Envoy image has no HTTP client; bash can still ask the admin (loopback) whether it is LIVE.
    ready = (
        f"exec 3<>/dev/tcp/127.0.0.1/{admin_port} && printf 'GET /ready HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q LIVE <&3"
    )
    return {
        "image": ENVOY_IMAGE,
        "user": APP_UID,
        "command": ["envoy", "-c", f"{ENVOY_CONFIG_DIR}/{config}.yaml", "--log-level", "warn"],
        "volumes": [f"./envoy:{ENVOY_CONFIG_DIR}:ro", f"mesh-certs:{CONTAINER_CERT_DIR}:ro"],
        "healthcheck": _healthcheck(["CMD", "bash", "-c", ready]),
        "restart": "unless-stopped",
    }


def _sidecar(spec: registry.ServiceSpec) -> dict[str, Any]:
    sidecar = _envoy(spec.name, admin_port=CONTAINER_ADMIN_PORT)
    sidecar["command"] += ["--concurrency", "1"]
    sidecar["network_mode"] = f"service:{spec.name}"
    sidecar["depends_on"] = {
        "certs": {"condition": "service_completed_successfully"},
        spec.name: {"condition": "service_healthy"},
    }
    return sidecar


def _edge() -> dict[str, Any]:
    edge = _envoy(registry.EDGE, admin_port=CONTAINER_ADMIN_PORT)
    edge["volumes"].append(f"./gen/descriptor/athenaeum.binpb:{CONTAINER_DESCRIPTOR_PATH}:ro")
    edge["ports"] = [f"${{ATHENAEUM_EDGE_PORT:-8080}}:{CONTAINER_EDGE_PORT}"]
    edge["depends_on"] = _healthy(*(f"{spec.name}-sidecar" for spec in registry.SERVICES))
    return edge


def _observability() -> dict[str, Any]:
    return {
        "jaeger": {
            "image": "jaegertracing/jaeger:2.8.0",
            "ports": ["${JAEGER_UI_PORT:-16686}:16686"],
            "restart": "unless-stopped",
        },
        "prometheus": {
            "image": "prom/prometheus:v3.4.2",
            "command": ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"],
            "volumes": [f"./{PROMETHEUS_FILE}:/etc/prometheus/prometheus.yml:ro", "prometheus-data:/prometheus"],
            "ports": ["${PROMETHEUS_PORT:-9090}:9090"],
            "restart": "unless-stopped",
        },
        "grafana": {
            "image": "grafana/grafana:12.0.2",
            "environment": {"GF_AUTH_ANONYMOUS_ENABLED": "true", "GF_AUTH_ANONYMOUS_ORG_ROLE": "Viewer"},
            "volumes": [
                "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro",
                "./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro",
                "grafana-data:/var/lib/grafana",
            ],
            "ports": ["${GRAFANA_PORT:-3000}:3000"],
            "depends_on": ["prometheus"],
            "restart": "unless-stopped",
        },
    }


def _outside_world() -> dict[str, Any]:
    """Stand-ins for the mail server and the SMS provider: Mailpit (its web page shows every message) and
    the project's own Twilio-style SMS sink. Point ATHENAEUM_SMTP_* / ATHENAEUM_SMS_* elsewhere for real ones."""
    token = "${ATHENAEUM_SMS_AUTH_TOKEN?required secret}"
    return {
        "mailpit": {
            "image": "axllent/mailpit:v1.27",
            "ports": ["${MAILPIT_UI_PORT:-8025}:8025"],
            "healthcheck": _healthcheck(["CMD", "/mailpit", "readyz"]),
            "restart": "unless-stopped",
        },
        "sms-sink": {
            **_athenaeum_image(),
            "command": [
                "python",
                "-m",
                "services.support.launcher.sinks",
                "sms",
                "--host",
                "0.0.0.0",
                "--port",
                "2580",
                "--store",
                "/tmp/sms",
                "--token",
                token,
            ],
            "ports": ["${SMS_SINK_PORT:-2580}:2580"],
            "healthcheck": _healthcheck(
                ["CMD", "python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:2580/stats')"]
            ),
            "restart": "unless-stopped",
        },
    }


# Prometheus, Postgres ---------------------------------------------------------------------------------


def prometheus_config() -> dict[str, Any]:
    """Scrape every service's /metrics and every Envoy's stats (through its operations listener)."""
    envoys = [*(spec.name for spec in registry.SERVICES), registry.EDGE]
    return {
        "global": {"scrape_interval": "15s", "evaluation_interval": "15s"},
        "scrape_configs": [
            {
                "job_name": "athenaeum",
                "static_configs": [
                    {"targets": [f"{spec.name}:{CONTAINER_METRICS_PORT}"], "labels": {"service": spec.name}}
                    for spec in registry.SERVICES
                ],
            },
            {
                "job_name": "envoy",
                "metrics_path": "/stats/prometheus",
                "static_configs": [
                    {"targets": [f"{name}:{CONTAINER_OPS_PORT}"], "labels": {"service": name}} for name in envoys
                ],
            },
        ],
    }


def postgres_init_sql() -> str:
    """Run by the Postgres image on its first start: one database per service."""
    lines = [f"CREATE DATABASE {spec.database};" for spec in registry.SERVICES]
    return "-- " + HEADER[2:] + "\n".join(lines) + "\n"


# Helm ---------------------------------------------------------------------------------------------------


def helm_services() -> list[dict[str, Any]]:
    """The registry as the chart's `.Values.services` list (one named template ranges over it)."""
    return [
        {
            "name": spec.name,
            "module": spec.module,
            "database": spec.database,
            "grpcServices": list(spec.grpc_services),
            "callers": list(spec.callers),
            **({"secretSettings": list(spec.secret_settings)} if spec.secret_settings else {}),
        }
        for spec in registry.SERVICES
    ]


def helm_mesh() -> dict[str, Any]:
    """Facts of the container topology the chart needs (the Envoy configs it mounts assume them)."""
    return {
        "trustDomain": registry.TRUST_DOMAIN,
        "edgeIdentity": registry.EDGE,
        "ports": {
            "app": CONTAINER_APP_PORT,
            "inbound": CONTAINER_INBOUND_PORT,
            "outbound": CONTAINER_OUTBOUND_PORT,
            "ops": CONTAINER_OPS_PORT,
            "metrics": CONTAINER_METRICS_PORT,
            "edge": CONTAINER_EDGE_PORT,
        },
    }


def values_with_services(values_text: str) -> str:
    """values.yaml with its generated `services:` block replaced by the registry's current one."""
    block = VALUES_BEGIN + _dump({"mesh": helm_mesh(), "services": helm_services()}) + VALUES_END
    pattern = re.compile(re.escape(VALUES_BEGIN) + r".*?" + re.escape(VALUES_END), re.DOTALL)
    if not pattern.search(values_text):
        raise ValueError(f"{CHART_VALUES} has no generated services block ({VALUES_BEGIN.strip()!r} … END)")
    return pattern.sub(lambda _: block, values_text, count=1)


# Writing ------------------------------------------------------------------------------------------------


class _PlainDumper(yaml.SafeDumper):
    """No anchors; short lists of scalars (commands, healthchecks) on one line, like a person writes them."""

    def ignore_aliases(self, data: object) -> bool:
        return True

    def represent_list(self, data: list[Any]) -> yaml.Node:
        short = all(isinstance(item, str | int) for item in data) and len(str(data)) <= 100
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=short)


_PlainDumper.add_representer(list, _PlainDumper.represent_list)


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True, width=120)


def write_generated(root: Path, out: Path, *, envoy_dir: Path, descriptor: Path) -> None:
    """Write every generated deployment file under `out` (laid out like the repository); `envoy_dir`
    and `descriptor` are the Envoy configs and descriptor set the chart carries copies of."""
    texts = {
        COMPOSE_FILE: HEADER + _dump(compose()),
        PROMETHEUS_FILE: HEADER + _dump(prometheus_config()),
        POSTGRES_INIT_FILE: postgres_init_sql(),
        CHART_VALUES: values_with_services((root / CHART_VALUES).read_text(encoding="utf-8")),
    }
    for relative, text in texts.items():
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        (out / relative).write_text(text, encoding="utf-8")
    files = out / CHART_FILES
    (files / "envoy").mkdir(parents=True, exist_ok=True)
    for config in sorted(envoy_dir.glob("*.yaml")):
        shutil.copyfile(config, files / "envoy" / config.name)
    shutil.copyfile(descriptor, files / CONTAINER_DESCRIPTOR_PATH.name)
    (files / "grafana").mkdir(exist_ok=True)
    # The dashboard is written by hand, not generated: it comes from this checkout of the code.
    shutil.copyfile(REPO_ROOT / DASHBOARD_FILE, files / "grafana" / DASHBOARD_FILE.name)
