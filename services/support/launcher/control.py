"""A running `athenaeum up` takes requests from other shells (`athenaeum restart NAME`) on a Unix socket in
its data folder, readable and writable by its owner only. The socket thread only queues requests: the
launcher's main loop, which owns the processes, carries them out and answers."""

from __future__ import annotations

import json
import os
import queue
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SOCKET_NAME = "launcher.sock"
REPLY_TIMEOUT_SECONDS = 60.0


def socket_path(data_dir: Path) -> Path:
    return data_dir / SOCKET_NAME


@dataclass
class Request:
    """One command from another shell, and the answer the main loop gives it."""

    command: dict[str, Any]
    _answered: threading.Event = field(default_factory=threading.Event)
    _reply: dict[str, Any] = field(default_factory=dict)

    def answer(self, **reply: Any) -> None:
        self._reply = reply
        self._answered.set()

    def wait(self, timeout: float) -> dict[str, Any]:
        if not self._answered.wait(timeout):
            return {"ok": False, "error": "the launcher did not answer in time"}
        return self._reply


class ControlServer:
    """Accepts one JSON request per connection and queues it for `pending()`."""

    def __init__(self, data_dir: Path) -> None:
        self._path = socket_path(data_dir)
        self._queue: queue.Queue[Request] = queue.Queue()
        self._socket: socket.socket | None = None

    def __enter__(self) -> ControlServer:
        self._path.unlink(missing_ok=True)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_mask = os.umask(0o177)  # created 0600: only the owner of the mesh may command it
        try:
            server.bind(str(self._path))
        finally:
            os.umask(old_mask)
        server.listen(8)
        self._socket = server
        threading.Thread(target=self._accept_forever, name="athenaeum-control", daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._socket is not None:
            self._socket.close()
        self._path.unlink(missing_ok=True)

    def pending(self) -> list[Request]:
        """Requests waiting for the main loop (never blocks)."""
        requests: list[Request] = []
        while True:
            try:
                requests.append(self._queue.get_nowait())
            except queue.Empty:
                return requests

    def _accept_forever(self) -> None:
        assert self._socket is not None
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:  # closed: the launcher is stopping
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection, connection.makefile("rwb") as stream:
            try:
                command = json.loads(stream.readline(64 * 1024))
                if not isinstance(command, dict):
                    raise ValueError("a request is a JSON object")
            except ValueError as error:
                reply: dict[str, Any] = {"ok": False, "error": f"bad request: {error}"}
            else:
                request = Request(command)
                self._queue.put(request)
                reply = request.wait(REPLY_TIMEOUT_SECONDS)
            stream.write(json.dumps(reply).encode() + b"\n")
            stream.flush()


def send(data_dir: Path, command: dict[str, Any], *, timeout: float = REPLY_TIMEOUT_SECONDS) -> dict[str, Any]:
    """Send one request to the launcher running from `data_dir`; ConnectionError when none is."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(timeout)
        try:
            client.connect(str(socket_path(data_dir)))
        except (FileNotFoundError, ConnectionRefusedError) as error:
            raise ConnectionError(f"no mesh is running from {data_dir}") from error
        with client.makefile("rwb") as stream:
            stream.write(json.dumps(command).encode() + b"\n")
            stream.flush()
            reply = json.loads(stream.readline() or b"{}")
    return reply if isinstance(reply, dict) else {"ok": False, "error": "a malformed answer"}
