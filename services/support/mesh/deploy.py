"""docker-compose and Helm, generated from the service registry like the Envoy configs.

What depends on the list of services is written here: docker-compose.yml, the Prometheus scrape config, the
Postgres init script and the TLS front's Envoy config (compose.py), the `services:` block of the chart's
values.yaml and the chart's copies of the Envoy configs, the descriptor set, the dashboard and the alert rules (a
chart cannot read files outside its folder). `athenaeum generate` writes them and its `--check` (a test) fails when
a committed one drifts from the registry.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from services.support.mesh import compose, compose_observability, edge_tls, nats_auth, registry
from services.support.mesh.compose import COMPOSE_FILE, EDGE_TLS_FILE, NATS_AUTHORIZATION_FILE, POSTGRES_INIT_FILE
from services.support.mesh.compose_observability import ALERTS_FILE, DASHBOARD_FILE, PROMETHEUS_FILE
from services.support.mesh.envoy import CONTAINER_DESCRIPTOR_PATH
from services.support.mesh.topology import (
    APP_SOCKET,
    CONTAINER_EDGE_PORT,
    CONTAINER_INBOUND_PORT,
    CONTAINER_METRICS_PORT,
    CONTAINER_OPS_PORT,
    CONTAINER_SOCKET_DIR,
    OUTBOUND_SOCKET,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
CHART_DIR = Path("helm/athenaeum")
CHART_VALUES = CHART_DIR / "values.yaml"
CHART_FILES = CHART_DIR / "files"
GENERATED = (
    COMPOSE_FILE,
    PROMETHEUS_FILE,
    POSTGRES_INIT_FILE,
    EDGE_TLS_FILE,
    NATS_AUTHORIZATION_FILE,
    CHART_VALUES,
    CHART_FILES,
)

HEADER = "# Generated from services/support/mesh/registry.py by `athenaeum generate` — do not edit.\n"
VALUES_BEGIN = (
    "# BEGIN services — generated from services/support/mesh/registry.py by `athenaeum generate`; do not edit.\n"
)
VALUES_END = "# END services\n"


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
            **(
                {"librarySettings": [{"name": s.name, "value": s.chart_value} for s in spec.library_settings]}
                if spec.library_settings
                else {}
            ),
        }
        for spec in registry.SERVICES
    ]


def helm_mesh() -> dict[str, Any]:
    """Facts of the container topology the chart needs (the Envoy configs it mounts assume them)."""
    return {
        "trustDomain": registry.TRUST_DOMAIN,
        "edgeIdentity": registry.EDGE,
        # The service and its sidecar share these sockets in an emptyDir of the pod (nothing else mounts it).
        "sockets": {
            "dir": str(CONTAINER_SOCKET_DIR),
            "app": str(CONTAINER_SOCKET_DIR / APP_SOCKET),
            "outbound": str(CONTAINER_SOCKET_DIR / OUTBOUND_SOCKET),
        },
        "ports": {
            "inbound": CONTAINER_INBOUND_PORT,
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
    """Write every generated deployment file under `out` (laid out like the repository); `envoy_dir` and
    `descriptor` are the Envoy configs and descriptor set the chart carries copies of. The web client and the
    API docs are not chart files: the edge pod takes them from the image (the Helm release record is 1 MiB at
    most, and holds every chart file twice over)."""
    texts = {
        COMPOSE_FILE: HEADER + _dump(compose.compose()),
        PROMETHEUS_FILE: HEADER + _dump(compose_observability.prometheus_config()),
        POSTGRES_INIT_FILE: compose.postgres_init_sql(HEADER),
        EDGE_TLS_FILE: HEADER + _dump(edge_tls.committed_config()),
        NATS_AUTHORIZATION_FILE: HEADER + nats_auth.authorization_from_environment(),
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
    # The dashboard and the alert rules are written by hand, not generated: they come from this checkout.
    for source, folder in ((DASHBOARD_FILE, "grafana"), (ALERTS_FILE, "prometheus")):
        (files / folder).mkdir(exist_ok=True)
        shutil.copyfile(REPO_ROOT / source, files / folder / source.name)
    (files / "nats").mkdir(exist_ok=True)
    shutil.copyfile(out / NATS_AUTHORIZATION_FILE, files / "nats" / NATS_AUTHORIZATION_FILE.name)
