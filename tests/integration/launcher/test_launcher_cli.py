"""`athenaeum up` in one process, `status` and `down` from another, as a developer would use them."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from launcher_helpers import wait_gone

from services.support.launcher.state import read_state
from services.support.mesh.topology import ephemeral_port_range, port_is_free

pytestmark = pytest.mark.integration
REPO_ROOT = Path(__file__).resolve().parents[3]
# `up` lays out 25 service/sidecar ports from --port-base, then Postgres, NATS and the sinks
# (SMTP, mail page, SMS).
PORTS_USED_FROM_BASE = 30


def _free_port_range(size: int) -> int:
    """A base port such that base .. base+size-1 can all be bound right now, below the kernel's ephemeral
    range: a range inside it could lose a port to one of the suite's outgoing connections before `up` binds
    it (which made `up` exit early once)."""
    ephemeral_low, _ = ephemeral_port_range()
    chooser = random.Random()
    for _ in range(200):
        base = chooser.randrange(10_000, max(10_001, ephemeral_low - size))
        if all(port_is_free(port) for port in range(base, base + size)):
            return base
    raise RuntimeError("no free port range found")


def _athenaeum(*args: str) -> list[str]:
    return [sys.executable, "-m", "services.support.launcher.cli", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}


@pytest.fixture
def running_up(shared_dir: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """`athenaeum up --infra-only` running in its own process, until its state says every child started."""
    data_dir = shared_dir / "data"
    base = _free_port_range(PORTS_USED_FROM_BASE)
    command = _athenaeum("up", "--infra-only", "--data-dir", str(data_dir), "--port-base", str(base))
    # From shared_dir: its .athenaeum (the default data folder) gets the pointer to data_dir.
    log = shared_dir / "up.log"
    with log.open("wb") as output:
        up = subprocess.Popen(command, cwd=shared_dir, env=_env(), stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not _status_ok(data_dir):
            assert up.poll() is None, f"athenaeum up exited early:\n{log.read_text(errors='replace')[-3000:]}"
            assert time.monotonic() < deadline, "athenaeum up was not healthy in time"
            time.sleep(0.1)
        yield up, data_dir
    finally:
        up.kill()
        up.wait()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_athenaeum(*args), env=_env(), capture_output=True, text=True)


def _status_ok(data_dir: Path) -> bool:
    status = subprocess.run(_athenaeum("status", "--data-dir", str(data_dir)), env=_env(), capture_output=True)
    return status.returncode == 0


def _recorded_pids(data_dir: Path) -> list[int]:
    recorded = read_state(data_dir)
    assert recorded is not None
    return [entry["pid"] for entry in recorded["processes"]]


def test_down_from_another_shell_finds_and_stops_up_and_everything_it_started(
    running_up: tuple[subprocess.Popen[bytes], Path],
) -> None:
    up, data_dir = running_up
    children = _recorded_pids(data_dir)
    assert len(children) == 4  # postgres, nats, the mail and SMS sinks
    status = subprocess.run(_athenaeum("status"), cwd=data_dir.parent, env=_env(), capture_output=True, text=True)
    assert status.returncode == 0 and "nats" in status.stdout  # no --data-dir: the pointer `up` left

    down = subprocess.run(_athenaeum("down"), cwd=data_dir.parent, env=_env(), capture_output=True, text=True)

    assert down.returncode == 0 and "postgres" in down.stdout
    assert up.wait(timeout=10) == 0
    assert wait_gone(children) == []
    assert read_state(data_dir) is None
    assert not _status_ok(data_dir)


def test_killing_up_with_sigkill_takes_its_children_with_it(
    running_up: tuple[subprocess.Popen[bytes], Path],
) -> None:
    up, data_dir = running_up
    children = _recorded_pids(data_dir)

    up.kill()
    up.wait()

    assert wait_gone(children) == []


def _entry(data_dir: Path, name: str) -> dict:
    recorded = read_state(data_dir)
    assert recorded is not None
    return next(entry for entry in recorded["processes"] if entry["name"] == name)


def test_a_crashed_process_comes_back_and_status_counts_the_restart(
    running_up: tuple[subprocess.Popen[bytes], Path],
) -> None:
    _, data_dir = running_up
    os.kill(_entry(data_dir, "nats")["pid"], signal.SIGKILL)

    deadline = time.monotonic() + 30
    while _entry(data_dir, "nats")["restarts"] < 1 or not _status_ok(data_dir):
        assert time.monotonic() < deadline, "nats was not brought back"
        time.sleep(0.1)
    status = _cli("status", "--data-dir", str(data_dir))
    assert "restarts" in status.stdout


def test_restart_from_another_shell_restarts_one_process_and_waits_for_it(
    running_up: tuple[subprocess.Popen[bytes], Path],
) -> None:
    _, data_dir = running_up
    before = _entry(data_dir, "postgres")["pid"]

    done = _cli("restart", "postgres", "--data-dir", str(data_dir))

    assert done.returncode == 0 and "healthy" in done.stdout, done.stdout + done.stderr
    assert _entry(data_dir, "postgres")["pid"] != before
    unknown = _cli("restart", "nope", "--data-dir", str(data_dir))
    assert unknown.returncode == 1 and "no process called 'nope'" in unknown.stdout, unknown.stdout


def test_a_command_that_cannot_reach_the_edge_says_so_in_two_lines(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        target = f"127.0.0.1:{closed.getsockname()[1]}"  # bound, never listening: refused
        demo = subprocess.run(
            _athenaeum("catalog", "demo", "--titles", "3", "--token", "t"),
            env={**_env(), "ATHENAEUM_EDGE": target},
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert demo.returncode == 1
    assert "the edge is unreachable" in demo.stderr and target in demo.stderr
    assert "Traceback" not in demo.stderr and len(demo.stderr.strip().splitlines()) == 2


def test_migrate_without_a_usable_server_says_so_in_one_line() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"postgresql+asyncpg://postgres:x@127.0.0.1:{closed.getsockname()[1]}/postgres"
        refused = subprocess.run(
            _athenaeum("migrate", "--database-url", nowhere), env=_env(), capture_output=True, text=True, timeout=60
        )
    garbage = subprocess.run(
        _athenaeum("migrate", "--database-url", "garbage"), env=_env(), capture_output=True, text=True, timeout=60
    )

    said = " ".join(refused.stdout.split())
    assert refused.returncode == 1 and "Traceback" not in refused.stdout + refused.stderr
    assert said.startswith("the Postgres server cannot be used (") and "--database-url" in said
    assert garbage.returncode == 2 and "not a database URL" in " ".join(garbage.stderr.split())


def test_a_second_up_on_a_running_mesh_is_refused_in_one_line_and_leaves_that_mesh_alone(
    running_up: tuple[subprocess.Popen[bytes], Path],
) -> None:
    up, data_dir = running_up
    children = _recorded_pids(data_dir)
    base = _free_port_range(PORTS_USED_FROM_BASE)

    again = subprocess.run(
        _athenaeum("up", "--infra-only", "--data-dir", str(data_dir), "--port-base", str(base)),
        cwd=data_dir.parent,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert again.returncode == 1 and "Traceback" not in again.stdout + again.stderr
    refusal = " ".join(again.stderr.split())
    assert refusal.startswith("athenaeum: a mesh is already running from") and f"pid {up.pid}" in refusal
    assert _recorded_pids(data_dir) == children and up.poll() is None
    status = subprocess.run(_athenaeum("status"), cwd=data_dir.parent, env=_env(), capture_output=True, text=True)
    assert status.returncode == 0 and "nats" in status.stdout  # found through the pointer, still there


def test_up_refuses_a_data_folder_other_accounts_may_write_to_in_one_line(shared_dir: Path) -> None:
    data_dir = shared_dir / "open"
    data_dir.mkdir(mode=0o777)
    data_dir.chmod(0o777)  # e.g. made in /tmp by someone else's script, or by another account outright
    base = _free_port_range(PORTS_USED_FROM_BASE)

    refused = subprocess.run(
        _athenaeum("up", "--infra-only", "--data-dir", str(data_dir), "--port-base", str(base)),
        cwd=shared_dir,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert refused.returncode == 1 and "Traceback" not in refused.stdout + refused.stderr
    said = " ".join(refused.stderr.split())
    assert said.startswith(f"athenaeum: the mesh did not start: {data_dir} may be written by other accounts")
    assert sorted(path.name for path in data_dir.iterdir()) == []  # nothing made in it, no secret written
