"""The Envoys' access log keeps the route, never the query string (patron emails, phones, card numbers,
a reader's catalogue searches)."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from mesh_helpers import loopback_topology

from services.support.launcher.envoy_process import envoy_binary
from services.support.mesh import registry
from services.support.mesh.envoy import edge_config, render, sidecar_config
from services.support.mesh.envoy_common import HCM_TYPE, ROUTER_TYPE, access_log, socket_address


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answering_envoy(port: int) -> dict[str, Any]:
    """One listener that answers 200 itself and logs with the mesh's access log."""
    manager = {
        "@type": HCM_TYPE,
        "stat_prefix": "probe",
        "access_log": access_log(),
        "route_config": {
            "virtual_hosts": [
                {
                    "name": "all",
                    "domains": ["*"],
                    "routes": [{"match": {"prefix": "/"}, "direct_response": {"status": 200}}],
                }
            ]
        },
        "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {"@type": ROUTER_TYPE}}],
    }
    listener = {
        "name": "probe",
        "address": socket_address("127.0.0.1", port),
        "filter_chains": [
            {"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": manager}]}
        ],
    }
    return {"static_resources": {"listeners": [listener]}}


def logged_lines(out: Path, deadline: float) -> list[dict[str, Any]]:
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in out.read_text().splitlines() if line.startswith("{")]
        if lines:
            return lines
        time.sleep(0.1)
    return []


def test_a_request_s_query_string_is_not_in_the_access_log(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "probe.yaml"
    config.write_text(render(answering_envoy(port)))
    out = tmp_path / "out.log"
    with out.open("w") as stdout:
        envoy = subprocess.Popen(
            [
                str(envoy_binary()),
                "-c",
                str(config),
                "--disable-hot-restart",
                "--log-path",
                str(tmp_path / "envoy.log"),
            ],
            stdout=stdout,
        )
    try:
        deadline = time.monotonic() + 30
        url = f"http://127.0.0.1:{port}/v1/users?query=reader%40example.org&page_size=5"
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:
                    assert answer.status == 200
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "envoy.log").read_text()
                time.sleep(0.1)
        lines = logged_lines(out, deadline)
    finally:
        envoy.terminate()
        envoy.wait(timeout=30)
    (line,) = lines
    assert line["path"] == "/v1/users"
    assert "reader" not in out.read_text()


def access_logs(config: Any) -> list[Any]:
    """Every access_log list anywhere in a config."""
    if isinstance(config, dict):
        found = [config["access_log"]] if "access_log" in config else []
        return found + [log for value in config.values() for log in access_logs(value)]
    if isinstance(config, list):
        return [log for value in config for log in access_logs(value)]
    return []


def test_the_edge_and_every_sidecar_log_with_that_access_log() -> None:
    topology = loopback_topology(21000)
    configs = [edge_config(topology), *(sidecar_config(spec.name, topology) for spec in registry.SERVICES)]
    for config in configs:
        logs = [log for log in access_logs(config) if log]  # the admin pages' listener logs nothing
        assert logs and all(log == access_log() for log in logs)
