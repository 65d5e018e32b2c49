"""`helm install` stores the release in a Secret of at most 1 MiB: the chart must leave that far behind.

Helm keeps every release as a Secret `sh.helm.release.v1.<name>.v<N>` whose `release` value is
base64(gzip -9(JSON(release))), and the release carries the whole chart (every file under files/, the
templates, values and schema, each file's bytes base64 in the JSON) and the rendered manifests. Kubernetes
refuses a Secret above 1,048,576 bytes, so a chart over it renders fine and cannot be installed.
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest
from chart_helpers import CHART, PRODUCTION, ROOT, find, manifests, render
from helm_python import Chart

DOCKERFILE = (ROOT / "Dockerfile").read_text()
SECRET_LIMIT = 1024 * 1024
BUDGET = SECRET_LIMIT // 2
"""Half the limit: room for the chart to grow (and for values an operator adds) before installs break."""


def _file(name: str) -> dict[str, str]:
    # helm_python hands file contents over as text; Helm stores the bytes, so read them from the chart.
    return {"name": name, "data": base64.b64encode((CHART / name).read_bytes()).decode()}


def stored_release_bytes(values: dict[str, Any] | None) -> int:
    """The size of the `release` value Helm's Secret driver would write for `helm install` with `values`."""
    with Chart.load(str(CHART)) as chart:  # honours .helmignore, as `helm install` does
        files = [_file(item["name"]) for item in chart.files]
        templates = [_file(item["name"]) for item in chart.templates]
        metadata, chart_values, schema = chart.metadata, chart.values, chart.schema
    rendered = render(values)
    release = {
        "name": "athenaeum",
        "namespace": "library",
        "version": 1,
        "info": {"status": "deployed", "notes": "".join(v for k, v in rendered.items() if k.endswith("NOTES.txt"))},
        "chart": {
            "metadata": metadata,
            "templates": templates,
            "values": chart_values,
            "schema": base64.b64encode(json.dumps(schema).encode()).decode(),
            "files": files,
        },
        "config": values or {},
        "manifest": "".join(text for name, text in rendered.items() if name.endswith(".yaml")),
    }
    compressed = gzip.compress(json.dumps(release).encode(), compresslevel=9)
    return len(base64.b64encode(compressed))


@pytest.mark.parametrize("values", [None, PRODUCTION], ids=["defaults", "production"])
def test_the_release_helm_stores_stays_far_below_the_secret_limit(values: dict[str, Any] | None) -> None:
    size = stored_release_bytes(values)
    assert size < BUDGET, f"the Helm release record is {size:,} bytes (limit {SECRET_LIMIT:,}, budget {BUDGET:,})"


def test_the_edge_takes_the_web_client_and_the_api_docs_from_the_services_image() -> None:
    docs = manifests(render(None))
    pod = find(docs, "Deployment", "edge")["spec"]["template"]["spec"]
    (copier,) = pod["initContainers"]
    assert copier["image"] == find(docs, "Deployment", "loans")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert copier["command"] == ["cp", "-R", "/app/web", "/app/gen/docs", "/static/"]
    # The Dockerfile puts them there (WORKDIR /app).
    assert "COPY --chown=root:root gen/docs ./gen/docs" in DOCKERFILE
    assert "COPY --chown=root:root web ./web" in DOCKERFILE
    mounts = {m["mountPath"]: m for m in pod["containers"][0]["volumeMounts"]}
    assert mounts["/etc/athenaeum/web"]["subPath"] == "web"
    assert mounts["/etc/athenaeum/docs"]["subPath"] == "docs"
    assert not [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith(("-web", "-edge-docs"))]
