"""Envoy configs generated from the registry: Envoy accepts them, they are fresh, and they encode the policy."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.support.launcher.envoy_process import envoy_binary
from services.support.mesh import registry
from services.support.mesh.certs import ensure_mesh_certs
from services.support.mesh.envoy import (
    all_configs,
    committed_topology,
    edge_config,
    render,
    sidecar_config,
    write_configs,
    write_sds_files,
)
from services.support.mesh.envoy_common import READ_ONLY_ADMIN_PAGES
from services.support.mesh.envoy_sds import sds_dir, sds_documents
from services.support.mesh.topology import Topology, container_topology, local_topology, sequential_ports
from services.support.runtime.access import service_descriptor
from services.support.runtime.identity import CLAIMS_HEADER

ROOT = Path(__file__).resolve().parents[3]
DESCRIPTOR = ROOT / "gen" / "descriptor" / "athenaeum.binpb"
COMMITTED = ROOT / "envoy"
TOPOLOGIES = ("local", "container")


@pytest.fixture(scope="module")
def cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # `envoy --mode validate` opens every certificate file, so they must exist.
    directory = tmp_path_factory.mktemp("envoy-validation") / "certs"
    ensure_mesh_certs(directory, registry.identities())
    write_sds_files(directory)  # Envoy reads the certificates through these
    return directory


def build_topology(kind: str, cert_dir: Path) -> Topology:
    if kind == "container":
        return container_topology(cert_dir=cert_dir, descriptor_path=DESCRIPTOR)
    ports: Iterator[int] = sequential_ports(20000)
    return local_topology(
        ports=ports,
        socket_dir=cert_dir.parent / "run",
        edge_port=next(ports),
        edge_admin_port=next(ports),
        cert_dir=cert_dir,
        descriptor_path=DESCRIPTOR,
    )


def envoy_validate(config_file: Path) -> None:
    result = subprocess.run(
        [str(envoy_binary()), "--mode", "validate", "-c", str(config_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def hcm(listener: dict[str, Any]) -> dict[str, Any]:
    (chain,) = listener["filter_chains"]
    (manager,) = chain["filters"]
    return manager["typed_config"]


def listener_named(config: dict[str, Any], name: str) -> dict[str, Any]:
    (match,) = [item for item in config["static_resources"]["listeners"] if item["name"] == name]
    return match


def _sds_document(config_source: dict[str, Any], cert_dir: Path) -> dict[str, Any]:
    path = Path(config_source["path_config_source"]["path"])
    assert path.parent == sds_dir(cert_dir)
    (secret,) = sds_documents(cert_dir, registry.identities())[path.name]["resources"]
    return secret


def presented_certificate(context: dict[str, Any], cert_dir: Path) -> str:
    """The PEM file a TLS context presents, through its SDS file (watching the certificates' folder)."""
    (config,) = context["tls_certificate_sds_secret_configs"]
    secret = _sds_document(config["sds_config"], cert_dir)
    assert secret["name"] == config["name"]
    assert secret["tls_certificate"]["watched_directory"] == {"path": str(cert_dir)}
    return secret["tls_certificate"]["certificate_chain"]["filename"]


def trusted_ca(context: dict[str, Any], cert_dir: Path) -> str:
    """The CA file a TLS context trusts, through its SDS file."""
    config = context["combined_validation_context"]["validation_context_sds_secret_config"]
    secret = _sds_document(config["sds_config"], cert_dir)
    assert secret["validation_context"]["watched_directory"] == {"path": str(cert_dir)}
    return secret["validation_context"]["trusted_ca"]["filename"]


def route_prefixes(manager: dict[str, Any]) -> dict[str, str]:
    """Prefix (or exact path, for streaming methods) -> cluster, of the routes that forward (the edge's guards
    answer themselves)."""
    (vhost,) = manager["route_config"]["virtual_hosts"]
    return {
        route["match"].get("prefix") or route["match"]["path"]: route["route"]["cluster"]
        for route in vhost["routes"]
        if "route" in route
    }


@pytest.mark.parametrize("kind", TOPOLOGIES)
@pytest.mark.parametrize("name", [spec.name for spec in registry.SERVICES])
def test_sidecar_config_passes_envoy_validation(kind: str, name: str, cert_dir: Path, tmp_path: Path) -> None:
    config_file = tmp_path / f"{name}.yaml"
    config_file.write_text(render(sidecar_config(name, build_topology(kind, cert_dir))))
    envoy_validate(config_file)


@pytest.mark.parametrize("kind", TOPOLOGIES)
def test_edge_config_passes_envoy_validation(kind: str, cert_dir: Path, tmp_path: Path) -> None:
    if not DESCRIPTOR.exists():
        pytest.skip(f"{DESCRIPTOR.relative_to(ROOT)} missing: generate the descriptor set first")
    config_file = tmp_path / "edge.yaml"
    config_file.write_text(render(edge_config(build_topology(kind, cert_dir))))
    envoy_validate(config_file)


def test_committed_configs_are_what_the_registry_generates_now(tmp_path: Path) -> None:
    write_configs(committed_topology(), tmp_path)  # the bootstrap configs and their SDS files
    fresh = {path.name: path for path in tmp_path.glob("*.yaml")}
    committed = {path.name: path for path in COMMITTED.glob("*.yaml")}
    assert set(committed) == set(fresh), "run: python -m services.support.mesh.envoy --write envoy/"
    for name, path in fresh.items():
        assert committed[name].read_text() == path.read_text(), (
            f"envoy/{name} is stale; run: python -m services.support.mesh.envoy --write envoy/"
        )


def test_generated_files_say_they_are_generated(tmp_path: Path) -> None:
    for path in write_configs(committed_topology(), tmp_path).values():
        assert path.read_text().startswith("# Generated from services/support/mesh/registry.py")
        assert "&id" not in path.read_text(), "YAML anchors make the config hard to read"


@pytest.mark.parametrize("spec", registry.SERVICES, ids=lambda spec: spec.name)
def test_sidecar_rbac_allows_exactly_the_registry_callers(spec: registry.ServiceSpec, cert_dir: Path) -> None:
    inbound = hcm(listener_named(sidecar_config(spec.name, build_topology("local", cert_dir)), "inbound"))
    (rbac,) = [f["typed_config"] for f in inbound["http_filters"] if f["name"] == "envoy.filters.http.rbac"]
    assert rbac["rules"]["action"] == "ALLOW"
    principals = [
        principal["authenticated"]["principal_name"]["exact"]
        for policy in rbac["rules"]["policies"].values()
        for principal in policy["principals"]
    ]
    assert sorted(principals) == sorted(registry.spiffe_id(caller) for caller in spec.callers)


@pytest.mark.parametrize("spec", registry.SERVICES, ids=lambda spec: spec.name)
def test_sidecar_inbound_requires_a_mesh_client_certificate(spec: registry.ServiceSpec, cert_dir: Path) -> None:
    inbound = listener_named(sidecar_config(spec.name, build_topology("local", cert_dir)), "inbound")
    tls = inbound["filter_chains"][0]["transport_socket"]["typed_config"]
    assert tls["require_client_certificate"] is True
    assert trusted_ca(tls["common_tls_context"], cert_dir) == str(cert_dir / "ca.pem")
    assert presented_certificate(tls["common_tls_context"], cert_dir) == str(cert_dir / f"{spec.name}.pem")
    assert hcm(inbound)["forward_client_cert_details"] == "SANITIZE_SET"


@pytest.mark.parametrize("kind", ["local", "container"])
def test_a_service_and_its_sidecar_talk_over_unix_sockets_only(kind: str, cert_dir: Path) -> None:
    topology = build_topology(kind, cert_dir)
    for spec in registry.SERVICES:
        config = sidecar_config(spec.name, topology)
        clusters = {cluster["name"]: cluster for cluster in config["static_resources"]["clusters"]}
        (endpoint,) = clusters["local_app"]["load_assignment"]["endpoints"][0]["lb_endpoints"]
        assert endpoint["endpoint"]["address"] == {"pipe": {"path": str(topology.placement(spec.name).app_socket)}}


@pytest.mark.parametrize("spec", registry.SERVICES, ids=lambda spec: spec.name)
def test_sidecar_outbound_reaches_only_the_services_it_may_call(spec: registry.ServiceSpec, cert_dir: Path) -> None:
    topology = build_topology("local", cert_dir)
    config = sidecar_config(spec.name, topology)
    outbound = listener_named(config, "outbound")
    assert outbound["address"]["pipe"] == {"path": str(topology.placement(spec.name).outbound_socket), "mode": 0o600}
    assert hcm(outbound)["route_config"]["request_headers_to_remove"] == [CLAIMS_HEADER]  # a peer has no user
    expected = {
        f"/{grpc_service}/": f"mesh_{upstream.name}"
        for upstream in registry.upstreams_of(spec.name)
        for grpc_service in upstream.grpc_services
    }
    # and a route of its own for every method of those services (envoy_resilience)
    expected |= {
        f"/{grpc_service}/{method.name}": f"mesh_{upstream.name}"
        for upstream in registry.upstreams_of(spec.name)
        for grpc_service in upstream.grpc_services
        for method in service_descriptor(grpc_service).methods
    }
    assert route_prefixes(hcm(outbound)) == expected
    clusters = {cluster["name"]: cluster for cluster in config["static_resources"]["clusters"]}
    for upstream in registry.upstreams_of(spec.name):
        tls = clusters[f"mesh_{upstream.name}"]["transport_socket"]["typed_config"]["common_tls_context"]
        assert presented_certificate(tls, cert_dir) == str(cert_dir / f"{spec.name}.pem")
        assert trusted_ca(tls, cert_dir) == str(cert_dir / "ca.pem")
        sans = tls["combined_validation_context"]["default_validation_context"]["match_typed_subject_alt_names"]
        assert sans == [{"san_type": "URI", "matcher": {"exact": registry.spiffe_id(upstream.name)}}]


def test_edge_transcodes_every_registry_service_strictly(cert_dir: Path) -> None:
    edge = hcm(listener_named(edge_config(build_topology("local", cert_dir)), "edge"))
    (transcoder,) = [
        f["typed_config"] for f in edge["http_filters"] if f["name"] == "envoy.filters.http.grpc_json_transcoder"
    ]
    assert transcoder["services"] == [name for spec in registry.SERVICES for name in spec.grpc_services]
    assert transcoder["proto_descriptor"] == str(DESCRIPTOR)
    assert transcoder["request_validation_options"] == {
        "reject_unknown_method": True,
        "reject_unknown_query_parameters": True,
        "reject_binding_body_field_collisions": True,
    }
    assert transcoder["convert_grpc_status"] is True
    assert edge["forward_client_cert_details"] == "SANITIZE"


def test_edge_routes_each_service_and_the_mesh_wide_services(cert_dir: Path) -> None:
    topology = build_topology("local", cert_dir)
    config = edge_config(topology)
    routes = route_prefixes(hcm(listener_named(config, "edge")))
    first = registry.SERVICES[0].name
    expected = {f"/{name}/": f"mesh_{spec.name}" for spec in registry.SERVICES for name in spec.grpc_services}
    expected |= {
        path: f"mesh_{spec.name}"
        for spec in registry.SERVICES
        for path in spec.streaming_methods + spec.uploading_methods
    }
    expected |= {
        "/grpc.reflection.v1alpha.ServerReflection/": f"mesh_{first}",
        "/grpc.reflection.v1.ServerReflection/": f"mesh_{first}",
        "/grpc.health.v1.Health/": f"mesh_{first}",
    }
    assert routes == expected
    clusters = {cluster["name"]: cluster for cluster in config["static_resources"]["clusters"]}
    for spec in registry.SERVICES:
        cluster = clusters[f"mesh_{spec.name}"]
        endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
        assert endpoint["socket_address"]["port_value"] == topology.placement(spec.name).inbound_port
        tls = cluster["transport_socket"]["typed_config"]["common_tls_context"]
        assert presented_certificate(tls, cert_dir) == str(cert_dir / "edge.pem")


def test_container_configs_reach_peers_by_dns_name(cert_dir: Path) -> None:
    configs = all_configs(build_topology("container", cert_dir))
    clusters = {c["name"]: c for c in configs[registry.EDGE]["static_resources"]["clusters"]}
    address = clusters["mesh_catalog"]["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
    assert address["socket_address"]["address"] == "catalog"
    assert clusters["mesh_catalog"]["type"] == "STRICT_DNS"


def test_yaml_round_trips_to_the_same_config(cert_dir: Path) -> None:
    config = sidecar_config("loans", build_topology("local", cert_dir))
    assert yaml.safe_load(render(config)) == config


def test_a_watch_is_routed_without_the_unary_timeout_at_the_edge_and_its_sidecar(cert_dir: Path) -> None:
    """A server stream (WatchEvents) lasts as long as its client wants; the 60 s route timeout would cut it,
    and a stream duration taken from the client's grpc-timeout would race the client's own deadline: fired
    first, after the answer began, it resets the stream, which the client sees as INTERNAL."""
    topology = build_topology("local", cert_dir)
    watch = "/athenaeum.events.v1.EventsService/WatchEvents"
    assert watch in registry.service("events").streaming_methods
    edge = hcm(listener_named(edge_config(topology), "edge"))
    inbound = hcm(listener_named(sidecar_config("events", topology), "inbound"))
    for manager in (edge, inbound):
        (vhost,) = manager["route_config"]["virtual_hosts"]
        routes = [route for route in vhost["routes"] if route["match"].get("path") == watch]
        assert [route["route"]["timeout"] for route in routes] == ["0s"]
        assert "max_stream_duration" not in routes[0]["route"]  # the grpc-timeout header is the client's alone
        assert vhost["routes"].index(routes[0]) < len(vhost["routes"]) - 1  # before the catch-all prefixes


def _admin_and_its_pages(config: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    listeners = {listener["name"]: listener for listener in config["static_resources"]["listeners"]}
    pages = listeners.get("admin_pages")
    routes = hcm(pages)["route_config"]["virtual_hosts"][0]["routes"] if pages else []
    return config["admin"]["address"], {route["match"]["path"] for route in routes}


def test_on_one_host_each_envoy_s_admin_is_an_owner_only_socket_and_its_port_only_reads(cert_dir: Path) -> None:
    topology = build_topology("local", cert_dir)
    configs = {"edge": edge_config(topology), **{s.name: sidecar_config(s.name, topology) for s in registry.SERVICES}}
    for name, config in configs.items():
        address, pages = _admin_and_its_pages(config)
        assert address["pipe"]["mode"] == 0o600 and Path(address["pipe"]["path"]).parent == cert_dir.parent / "run"
        assert pages == set(READ_ONLY_ADMIN_PAGES) and not pages & {"/quitquitquit", "/logging", "/config_dump"}, name


def test_in_containers_each_envoy_s_admin_stays_on_the_pod_s_loopback(cert_dir: Path) -> None:
    topology = build_topology("container", cert_dir)
    for config in (edge_config(topology), *(sidecar_config(s.name, topology) for s in registry.SERVICES)):
        address, pages = _admin_and_its_pages(config)
        assert address["socket_address"]["address"] == "127.0.0.1" and not pages
