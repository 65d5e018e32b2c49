"""The mail and SMS sinks (launcher/sinks.py) as supervised processes, and a small client for tests and
`athenaeum mail`. Services learn where they are from ATHENAEUM_SMTP_* / ATHENAEUM_SMS_BASE_URL."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.support.launcher.credentials import kept_secret
from services.support.launcher.processes import ManagedProcess, ProcessSpec, Supervisor
from services.support.launcher.readiness import http_body, wait_until
from services.support.launcher.sink_http import READER, basic_authorization

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True, slots=True)
class SinkAddresses:
    """Where the sinks listen. With `socket_dir` (an owner-only folder: the mesh's run folder), mail and SMS
    are sent to Unix sockets there, which no other account may reach or take over, and the ports serve
    the pages only; without it (the tests' sinks, a bench), everything is on loopback ports."""

    smtp_port: int
    mail_web_port: int
    sms_port: int
    socket_dir: Path | None = None

    @property
    def smtp_socket(self) -> Path | None:
        return self.socket_dir / "mail-sink.sock" if self.socket_dir else None

    @property
    def sms_socket(self) -> Path | None:
        return self.socket_dir / "sms-sink.sock" if self.socket_dir else None

    @property
    def smtp_address(self) -> str:
        """Where mail is sent, as `up` prints it."""
        return str(self.smtp_socket) if self.smtp_socket else f"127.0.0.1:{self.smtp_port}"

    @property
    def mail_url(self) -> str:
        return f"http://127.0.0.1:{self.mail_web_port}"

    @property
    def sms_url(self) -> str:
        return f"http://127.0.0.1:{self.sms_port}"

    def service_environment(self) -> dict[str, str]:
        """What a service needs to send through the sinks."""
        sockets = {"ATHENAEUM_SMTP_SOCKET": str(self.smtp_socket), "ATHENAEUM_SMS_SOCKET": str(self.sms_socket)}
        return {
            "ATHENAEUM_SMTP_HOST": "127.0.0.1",
            "ATHENAEUM_SMTP_PORT": str(self.smtp_port),
            "ATHENAEUM_SMS_BASE_URL": self.sms_url,
            **(sockets if self.socket_dir else {}),
        }


PASSWORD_FILE = "password"
"""In the sinks' folder (the owner's only): the password of their pages and JSON."""


def password_file(store_dir: Path) -> Path:
    """Where the sinks keeping their messages in `store_dir` find the password of their pages."""
    return store_dir / PASSWORD_FILE


class LocalSinks:
    """Runs the two sinks under `supervisor`, keeping what they receive under `store_dir`; their pages and
    JSON ask for `password` (user athenaeum), kept in `store_dir`."""

    MAIL, SMS = "mail-sink", "sms-sink"

    def __init__(self, store_dir: Path, addresses: SinkAddresses, supervisor: Supervisor) -> None:
        self.store_dir = store_dir
        self.addresses = addresses
        self._supervisor = supervisor

    @property
    def password(self) -> str:
        """The password of the sinks' pages (made on first use)."""
        return kept_secret(password_file(self.store_dir))

    def client(self, name: str) -> SinkClient:
        """A reader of what sink `name` (MAIL or SMS) received."""
        url = self.addresses.mail_url if name == self.MAIL else self.addresses.sms_url
        return SinkClient(url, password=self.password)

    def start(self, timeout: float = 15.0) -> None:
        kept_secret(password_file(self.store_dir))  # made before the sinks read it
        for spec in self.specs():
            self._supervisor.start(spec)
        for name in (self.MAIL, self.SMS):
            self.wait_ready(name, timeout)

    def wait_ready(self, name: str, timeout: float = 15.0) -> None:
        process = self._supervisor.process(name)
        wait_until(lambda: self.is_ready(name), timeout=timeout, what=name, check_alive=process.check_alive)

    def is_ready(self, name: str) -> bool:
        url = self.addresses.mail_url if name == self.MAIL else self.addresses.sms_url
        return http_body(f"{url}/stats") is not None

    def process(self, name: str) -> ManagedProcess:
        return self._supervisor.process(name)

    def specs(self) -> list[ProcessSpec]:
        module = [sys.executable, "-m", "services.support.launcher.sinks"]
        a = self.addresses
        store = str(self.store_dir)
        secret = ["--password-file", str(password_file(self.store_dir))]
        smtp = ["--smtp-socket", str(a.smtp_socket)] if a.smtp_socket else ["--smtp-port", str(a.smtp_port)]
        api = ["--api-socket", str(a.sms_socket)] if a.sms_socket else []
        return [
            ProcessSpec(
                name=self.MAIL,
                argv=[
                    *module,
                    "mail",
                    *smtp,
                    "--http-port",
                    str(a.mail_web_port),
                    "--store",
                    store,
                    *secret,
                ],
                extra={"role": "sink", "url": a.mail_url},
            ),
            ProcessSpec(
                name=self.SMS,
                argv=[*module, "sms", "--port", str(a.sms_port), *api, "--store", store, *secret],
                extra={"role": "sink", "url": a.sms_url},
            ),
        ]


def fetch(url: str, *, password: str | None = None, timeout: float = 5.0) -> Any:
    """GET a sink's JSON (messages, stats), signed in with `password` when given."""
    headers = {"Accept": "application/json"}
    if password is not None:
        headers["Authorization"] = basic_authorization(READER, password)
    request = urllib.request.Request(url, headers=headers)
    with _DIRECT.open(request, timeout=timeout) as response:
        return json.loads(response.read())


class SinkClient:
    """Read what a sink received: `count()`, `messages(since=0)`, `message(n)` (mail: with text and html)."""

    def __init__(self, base_url: str, *, password: str) -> None:
        self.base_url = base_url
        self._password = password

    def _get(self, path: str) -> Any:
        return fetch(f"{self.base_url}{path}", password=self._password)

    def count(self) -> int:
        """Messages received, not counting copies of one already held (same Message-ID / idempotency key)."""
        return int(self._get("/stats")["count"])

    def duplicates(self) -> int:
        return int(self._get("/stats")["duplicates"])

    def messages(self, since: int = 0) -> list[dict[str, Any]]:
        return list(self._get(f"/messages?since={since}"))

    def message(self, number: int) -> dict[str, Any] | None:
        """Mail message `number` (from 1) with its text and html parts; None when the sink holds no such one."""
        try:
            return dict(self._get(f"/messages/{number}"))
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise
