"""Imports point one way. Inside a service: domain <- app <- data / api <- main. Between services: only
through the generated API. Between the support packages: runtime <- mesh <- devtools <- launcher, and
none of them knows a service. Layers are found by glob, so a new module or service is checked at once."""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"
SUPPORT_DIR = SERVICES_DIR / "support"
SERVICES = sorted(p.parent.name for p in SERVICES_DIR.glob("*/main.py"))
LAYERS = ("domain", "app", "data", "api")

IO_LIBRARIES = frozenset(
    {"grpc", "grpc_health", "grpc_reflection", "grpc_status", "sqlalchemy", "asyncpg", "alembic", "nats",
     "athenaeum", "google", "aiosmtplib", "httpx", "aiohttp", "jinja2", "prometheus_client", "opentelemetry", "asyncio"}
)  # fmt: skip
"""What pure code (domain, and the use cases' signatures) must not import: I/O, wire formats, frameworks."""

# Use cases may wait on two peers at once (asyncio.gather); the rules never wait at all.
ALSO_IN_APP = {"app": frozenset({"asyncio"})}
# Which layers of the same service each layer may import.
ALLOWED_LAYERS = {
    "domain": {"domain"},
    "app": {"domain", "app"},
    "data": {"domain", "app", "data"},
    "api": {"domain", "app", "api"},
}
# Which support packages each support package may import (a DAG: no loops).
ALLOWED_SUPPORT = {
    "runtime": {"runtime"},
    "mesh": {"runtime", "mesh"},
    "devtools": {"runtime", "mesh", "devtools"},
    "launcher": {"runtime", "mesh", "devtools", "launcher"},
}
# Issue 10 reshapes these one by one, and issues 11 and 12 build the last two; each leaves the set when
# its folders are in place.
NOT_YET_RESHAPED: set[str] = set()
ENTRY_POINTS = ("__init__.py", "main.py", "settings.py", "cli.py")


def imports_of(path: Path) -> set[str]:
    """Absolute module names a file imports (relative imports resolved against its package)."""
    package = path.relative_to(SERVICES_DIR.parent).with_suffix("").parts[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def modules(folder: Path) -> Iterator[Path]:
    yield from sorted(path for path in folder.rglob("*.py") if "migrations" not in path.parts)


@functools.cache
def pure_runtime_modules() -> frozenset[str]:
    """Runtime modules that import no I/O library, directly or through other runtime modules."""
    runtime = {f"services.support.runtime.{p.stem}": imports_of(p) for p in (SUPPORT_DIR / "runtime").glob("*.py")}
    impure = {name for name, imported in runtime.items() if {i.split(".")[0] for i in imported} & IO_LIBRARIES}
    changed = True
    while changed:
        changed = False
        for name, imported in runtime.items():
            if name not in impure and imported & impure:
                impure.add(name)
                changed = True
    return frozenset(runtime) - impure


def _layer_violations(service: str, layer: str) -> list[str]:
    own = f"services.{service}."
    violations = []
    for path in modules(SERVICES_DIR / service / layer):
        for name in imports_of(path):
            where = path.relative_to(SERVICES_DIR)
            root = name.split(".")[0]
            if name.startswith(own):
                target = name.removeprefix(own).split(".")[0]
                if (target in LAYERS and target not in ALLOWED_LAYERS[layer]) or target in ("main", "settings"):
                    violations.append(f"{where} imports {name}")
            elif name.startswith("services.support."):
                pure_only = layer in ("domain", "app")
                module = ".".join(name.split(".")[:4])
                if pure_only and module not in pure_runtime_modules() and name not in pure_runtime_modules():
                    violations.append(f"{where} imports {name}, which does I/O")
            elif name.startswith("services."):
                violations.append(f"{where} imports another service: {name}")
            elif layer in ("domain", "app") and root in IO_LIBRARIES - ALSO_IN_APP.get(layer, frozenset()):
                violations.append(f"{where} imports {name}")
    return violations


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_has_the_four_layers(service: str) -> None:
    if service in NOT_YET_RESHAPED:
        pytest.xfail(f"{service} is not reshaped yet")
    folder = SERVICES_DIR / service
    missing = [layer for layer in LAYERS if not (folder / layer / "__init__.py").exists()]
    assert not missing, f"services/{service} lacks {missing}"
    loose = sorted(p.name for p in folder.glob("*.py") if p.name not in ENTRY_POINTS)
    assert not loose, f"services/{service} has modules outside its layers: {loose}"


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("service", SERVICES)
def test_imports_point_from_outer_layers_to_inner_ones(service: str, layer: str) -> None:
    if service in NOT_YET_RESHAPED:
        pytest.xfail(f"{service} is not reshaped yet")
    assert _layer_violations(service, layer) == []


def test_services_never_import_each_other() -> None:
    violations = []
    for service in SERVICES:
        for path in modules(SERVICES_DIR / service):
            for name in imports_of(path):
                other = name.split(".")[1] if name.startswith("services.") and name.count(".") >= 1 else ""
                if other and other not in (service, "support"):
                    violations.append(f"{path.relative_to(SERVICES_DIR)} imports {name}")
    assert violations == []


@pytest.mark.parametrize("package", sorted(ALLOWED_SUPPORT))
def test_support_packages_know_no_service_and_form_no_loop(package: str) -> None:
    violations = []
    for path in modules(SUPPORT_DIR / package):
        for name in imports_of(path):
            if not name.startswith("services."):
                continue
            parts = name.split(".")
            if len(parts) < 3 or parts[1] != "support":
                violations.append(f"{path.relative_to(SERVICES_DIR)} imports a service: {name}")
            elif parts[2] not in ALLOWED_SUPPORT[package] and parts[2] in ALLOWED_SUPPORT:
                violations.append(f"{path.relative_to(SERVICES_DIR)} imports {name}")
    assert violations == []


def test_the_runtime_has_a_pure_core_for_domain_code() -> None:
    pure = pure_runtime_modules()
    for module in ("errors", "clock", "identity", "names", "events", "versioning", "paging", "pagination"):
        assert f"services.support.runtime.{module}" in pure, module
    assert "services.support.runtime.db" not in pure
