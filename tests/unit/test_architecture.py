"""Imports point one way: domain modules know nothing of gRPC, SQLAlchemy or NATS."""

import ast
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "services"
FORBIDDEN = ("grpc", "sqlalchemy", "nats", "asyncpg", "athenaeum", "google")
# Rules live in domain.py and, where a service has more of them, in modules named here; all stay pure.
MORE_RULES = (
    "catalog/inventory.py",
    "catalog/queries.py",
    "loans/rules.py",
    "loans/fines.py",
    "loans/holds.py",
    "loans/borrowing.py",
    "users/sessions.py",
    "users/validation.py",
    "support/runtime/errors.py",
    "support/runtime/clock.py",
)
PURE_MODULES = sorted([*SERVICES.glob("*/domain.py"), *(SERVICES / name for name in MORE_RULES)])


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("module", PURE_MODULES, ids=lambda p: str(p.relative_to(SERVICES)))
def test_pure_modules_import_no_infrastructure(module: Path) -> None:
    assert not _imported_roots(module) & set(FORBIDDEN)


def test_there_is_at_least_one_domain_module() -> None:
    assert any(p.name == "domain.py" for p in PURE_MODULES)
    assert all(p.exists() for p in PURE_MODULES)


def test_runtime_holds_no_business_rules() -> None:
    """The shared runtime never imports a service's package."""
    services = {p.name for p in SERVICES.iterdir() if (p / "main.py").exists()}
    for module in (SERVICES / "support" / "runtime").glob("*.py"):
        imports = {line.split()[1] for line in module.read_text().splitlines() if line.startswith("from services.")}
        assert not {i.split(".")[1] for i in imports} & services, module.name
