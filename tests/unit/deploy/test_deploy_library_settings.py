"""A fact of the whole library (its time zone) reaches every service that reads it with one value, however the
mesh runs: the launcher, compose and the chart. Loans and notifications disagreeing was the bug: loans due at
the end of a New York day, notices telling the date in UTC. Users reads it too: a membership lasts to the end of
the library's day of its expiry."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from chart_helpers import CHART, find, manifests, render

from services.support.launcher import components
from services.support.launcher.layout import local_mesh_topology
from services.support.mesh import compose, registry
from services.support.mesh.topology import sequential_ports
from services.support.runtime.settings import BaseServiceSettings

ROOT = Path(__file__).resolve().parents[3]
ZONE = registry.LIBRARY_TIME_ZONE
READERS = ("users", "loans", "notifications")


def _settings_class(spec: registry.ServiceSpec) -> type[BaseServiceSettings]:
    module = importlib.import_module(f"services.{spec.name}.settings")
    (found,) = {
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, BaseServiceSettings) and value is not BaseServiceSettings
    }
    return found


def test_every_service_that_reads_the_library_time_zone_is_named_in_the_registry() -> None:
    readers = {spec.name for spec in registry.SERVICES if ZONE in spec.library_settings}
    assert readers == {
        spec.name for spec in registry.SERVICES if "library_time_zone" in _settings_class(spec).model_fields
    }
    assert readers == set(READERS)


def test_compose_passes_one_variable_to_every_reader() -> None:
    services = yaml.safe_load((ROOT / compose.COMPOSE_FILE).read_text())["services"]
    given = {name: dict(service.get("environment") or {}).get(ZONE.name) for name, service in services.items()}
    assert {name for name, value in given.items() if value} == set(READERS)
    assert {given[name] for name in READERS} == {"${ATHENAEUM_LIBRARY_TIME_ZONE:-UTC}"}


def _zones(values: dict[str, Any] | None) -> dict[str, list[str]]:
    docs = manifests(render(values))
    zones = {}
    for spec in registry.SERVICES:
        env = find(docs, "Deployment", spec.name)["spec"]["template"]["spec"]["containers"][0]["env"]
        zones[spec.name] = [e["value"] for e in env if e["name"] == ZONE.name]
    return zones


def test_the_chart_gives_every_reader_the_librarys_one_time_zone() -> None:
    chart_default = yaml.safe_load((CHART / "values.yaml").read_text())["library"][ZONE.chart_value]
    assert chart_default == ZONE.default
    assert {name: z for name, z in _zones(None).items() if z} == {name: ["UTC"] for name in READERS}
    new_york = {"library": {"timeZone": "America/New_York"}}
    assert {name: z for name, z in _zones(new_york).items() if z} == {name: ["America/New_York"] for name in READERS}


def test_one_services_own_time_zone_is_refused_rather_than_splitting_the_library() -> None:
    values = {
        "library": {"timeZone": "America/New_York"},
        "serviceOverrides": {"loans": {"env": {ZONE.name: "Europe/Moscow"}}},
    }
    with pytest.raises(Exception, match=re.escape(f"loans.env.{ZONE.name}")):
        _zones(values)


def test_the_chart_refuses_a_time_zone_that_is_not_a_name() -> None:
    with pytest.raises(Exception, match=re.escape("timeZone")):
        render({"library": {"timeZone": "New York; rm -rf /"}})


def test_the_launcher_hands_the_operators_time_zone_to_every_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ZONE.name, "America/New_York")
    topology = local_mesh_topology(tmp_path, ports=sequential_ports(7100), edge_port=8080, edge_admin_port=9901)
    for name in READERS:
        spec = components.service_spec(name, topology, database_url="postgresql+asyncpg://x@h/d", nats_url="nats://h")
        assert spec.env is not None and spec.env[ZONE.name] == "America/New_York"


def test_the_chart_gives_loans_catalog_and_users_the_librarys_branches_and_refuses_a_list_with_an_empty_code() -> None:
    """Loans refuses a hold for a branch not listed (finding B7), the catalog a copy's branch (findings-second F8:
    a copy at a typo branch was sent home where no desk could receive it), users an account's home branch (a
    librarian at a typo branch had every desk return refused); "" lists none."""
    branches = registry.LIBRARY_BRANCHES
    readers = {"catalog", "loans", "users"}
    assert {spec.name for spec in registry.SERVICES if branches in spec.library_settings} == readers
    docs = manifests(render({"library": {"timeZone": "UTC", "branches": "MAIN,EAST"}}))
    for spec in (spec for spec in registry.SERVICES if spec.name in readers):
        assert "library_branches" in _settings_class(spec).model_fields
        env = find(docs, "Deployment", spec.name)["spec"]["template"]["spec"]["containers"][0]["env"]
        assert [e["value"] for e in env if e["name"] == branches.name] == ["MAIN,EAST"]
    with pytest.raises(Exception, match=re.escape("branches")):
        render({"library": {"timeZone": "UTC", "branches": "MAIN,,EAST"}})
    services = yaml.safe_load((ROOT / compose.COMPOSE_FILE).read_text())["services"]
    given = {name: dict(service.get("environment") or {}).get(branches.name) for name, service in services.items()}
    assert {name for name, value in given.items() if value is not None} == readers


def test_the_chart_gives_loans_the_librarys_currency_and_refuses_one_that_is_not_a_code() -> None:
    """ATHENAEUM_CURRENCY_CODE was neither in the chart's values nor documented (finding M6)."""
    currency = registry.LIBRARY_CURRENCY
    assert [spec.name for spec in registry.SERVICES if currency in spec.library_settings] == ["loans"]
    assert yaml.safe_load((CHART / "values.yaml").read_text())["library"][currency.chart_value] == currency.default
    docs = manifests(render({"library": {"timeZone": "UTC", "currencyCode": "EUR"}}))
    env = find(docs, "Deployment", "loans")["spec"]["template"]["spec"]["containers"][0]["env"]
    assert [e["value"] for e in env if e["name"] == currency.name] == ["EUR"]
    with pytest.raises(Exception, match=re.escape("currencyCode")):
        render({"library": {"timeZone": "UTC", "currencyCode": "\u0440\u0443\u0431."}})
