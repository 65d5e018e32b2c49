"""Local stand-ins for the outside world's mail server and SMS provider, for `athenaeum up` and the tests.

- The mail sink is an SMTP server (aiosmtpd) that keeps every message it accepts, on disk, and shows them on
  a small web page (`/`, one message at `/messages/<n>`, JSON at `/messages`). A recipient whose local part
  is `reject-550` or `defer-451` is refused with that code, like a provider's mailbox simulator. A message
  whose Message-ID it already holds is kept too, marked `duplicate_of` the first (a mailbox shows it once).
- The SMS sink speaks a Twilio-style API: POST /2010-04-01/Accounts/{sid}/Messages.json (form To, From,
  Body; HTTP Basic auth with the sid and token), answering 201 with a message sid; the provider's magic test
  numbers are refused as it refuses them (+15005550001: invalid number, +15005550009: not a mobile). A
  request repeating an Idempotency-Key gets the first message back and sends nothing.

Run one: `python -m services.support.launcher.sinks mail --smtp-port 2525 --http-port 2580 --store DIR`.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import signal
import threading
import time
import uuid
from collections.abc import Callable
from email import message_from_bytes, policy
from email.parser import BytesHeaderParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

DEV_SMS_ACCOUNT = "ACathenaeumdev"
DEV_SMS_TOKEN = "dev-only-sms-token"
REFUSED_RECIPIENTS = {"reject-550": (550, "5.1.1 mailbox unavailable"), "defer-451": (451, "4.3.0 try again later")}
MAGIC_NUMBERS = {
    "+15005550001": (21211, "The 'To' number is not a valid phone number."),
    "+15005550009": (21614, "The 'To' number is not a mobile number."),
}


class Store:
    """Every message kept, in arrival order, in memory and appended to a JSON-lines file (so a restarted
    sink still shows what it received before)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.items: list[dict[str, Any]] = []
        self.duplicates = 0
        self._by_key: dict[str, dict[str, Any]] = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line:
                    self._remember(json.loads(line))
        self._file = path.open("a", encoding="utf-8")

    def _remember(self, item: dict[str, Any]) -> None:
        self.items.append(item)
        if "duplicate_of" in item:
            self.duplicates += 1
        elif item.get("key"):
            self._by_key[item["key"]] = item

    def first_with(self, key: str) -> dict[str, Any] | None:
        """The message first stored under this Message-ID / idempotency key, if any."""
        with self._lock:
            return self._by_key.get(key) if key else None

    def add(self, item: dict[str, Any]) -> int:
        with self._lock:
            item["n"] = len(self.items) + 1
            first = self._by_key.get(item.get("key") or "")
            if first is not None:
                item["duplicate_of"] = first["n"]
            self._remember(item)
            self._file.write(json.dumps(item, ensure_ascii=False) + "\n")
            self._file.flush()
            return int(item["n"])

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.items)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"count": len(self.items) - self.duplicates, "duplicates": self.duplicates}


# Mail -------------------------------------------------------------------------------------------------


class MailHandler:
    """aiosmtpd handler: refuse the simulator's addresses, keep everything else."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._headers = BytesHeaderParser(policy=policy.default)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        refused = REFUSED_RECIPIENTS.get(address.partition("@")[0].lower())
        if refused is not None:
            return f"{refused[0]} {refused[1]}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw: bytes = envelope.original_content or envelope.content
        headers = self._headers.parsebytes(raw)
        self.store.add(
            {
                "received_at": time.time(),
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "headers": {name: str(value) for name, value in headers.items()},
                "key": str(headers.get("Message-ID", "")),
                "raw": raw.decode("utf-8", errors="replace"),
            }
        )
        return "250 Message accepted"


def message_parts(item: dict[str, Any]) -> tuple[str, str]:
    """(text, html) bodies of a stored message."""
    message = message_from_bytes(item["raw"].encode("utf-8"), policy=policy.default)
    text = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    return (text.get_content() if text else ""), (rich.get_content() if rich else "")


def _mail_page(items: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td><a href='/messages/{m['n']}'>{m['n']}</a></td><td>{html.escape(m['headers'].get('Date', ''))}</td>"
        f"<td>{html.escape(', '.join(m['rcpt_tos']))}</td><td>{html.escape(m['headers'].get('Subject', ''))}</td></tr>"
        for m in reversed(items[-500:])
    )
    return _page(
        f"Mail sink: {len(items)} messages",
        f"<table><tr><th>#</th><th>date</th><th>to</th><th>subject</th></tr>{rows}</table>",
    )


def _message_page(item: dict[str, Any]) -> str:
    text, rich = message_parts(item)
    headers = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in item["headers"].items()
    )
    frame = f"<iframe sandbox srcdoc='{html.escape(rich, quote=True)}' style='width:100%;height:20em'></iframe>"
    return _page(
        item["headers"].get("Subject", "(no subject)"),
        f"<table>{headers}</table><h2>Text</h2><pre>{html.escape(text)}</pre><h2>HTML</h2>{frame if rich else ''}",
    )


def _page(title: str, body: str) -> str:
    style = "body{font-family:sans-serif;margin:2em}td,th{padding:.2em .6em;text-align:left;vertical-align:top}"
    head = f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title><style>{style}</style>"
    return f"{head}<h1>{html.escape(title)}</h1>{body}"


# SMS --------------------------------------------------------------------------------------------------


class SmsApi:
    """The provider's side of the Twilio-style API."""

    def __init__(self, store: Store, *, account: str, token: str) -> None:
        self.store = store
        self.account = account
        self._authorization = "Basic " + base64.b64encode(f"{account}:{token}".encode()).decode()

    def post_message(self, path: str, headers: Any, body: bytes) -> tuple[int, dict[str, Any]]:
        if path != f"/2010-04-01/Accounts/{self.account}/Messages.json":
            return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
        if headers.get("Authorization") != self._authorization:
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}
        form = {key: values[0] for key, values in parse_qs(body.decode("utf-8")).items()}
        to, text = form.get("To", ""), form.get("Body", "")
        if not to or not text:
            return 400, {"code": 21604 if not to else 21602, "message": "To and Body are required", "status": 400}
        if to in MAGIC_NUMBERS:
            code, message = MAGIC_NUMBERS[to]
            return 400, {"code": code, "message": message, "status": 400}
        key = headers.get("Idempotency-Key", "")
        if (first := self.store.first_with(key)) is not None:
            return 201, {**first, "status": "queued", "account_sid": self.account}
        sid = "SM" + uuid.uuid4().hex
        item = {"sid": sid, "to": to, "from": form.get("From", ""), "body": text, "received_at": time.time()}
        item["key"] = key
        self.store.add(item)
        return 201, {**item, "status": "queued", "account_sid": self.account, "num_segments": str(len(text) // 153 + 1)}


def _sms_page(items: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{m['n']}</td><td>{html.escape(m['to'])}</td><td>{html.escape(m['body'])}</td></tr>"
        for m in reversed(items[-500:])
    )
    return _page(
        f"SMS sink: {len(items)} messages", f"<table><tr><th>#</th><th>to</th><th>text</th></tr>{rows}</table>"
    )


# HTTP -------------------------------------------------------------------------------------------------


def http_server(
    port: int, routes: Callable[[str, str, Any, bytes], tuple[int, str, bytes]], *, host: str = "127.0.0.1"
) -> ThreadingHTTPServer:
    """A keep-alive HTTP/1.1 server (loopback unless told); `routes(method, path, headers, body)` answers."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: Nagle would hold the body ~40 ms

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, content_type, payload = routes(self.command, self.path, self.headers, body)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:  # one line per request would drown the log
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # the default 5 resets connections when a client opens its whole pool at once
        daemon_threads = True

    server = Server((host, port), Handler)
    return server


def _json(status: int, data: Any) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps(data, ensure_ascii=False).encode()


def _html(text: str) -> tuple[int, str, bytes]:
    return 200, "text/html; charset=utf-8", text.encode()


def mail_routes(store: Store) -> Callable[[str, str, Any, bytes], tuple[int, str, bytes]]:
    def route(method: str, path: str, headers: Any, body: bytes) -> tuple[int, str, bytes]:
        url = urlparse(path)
        if url.path == "/stats":  # polled often: no copy of the whole store
            return _json(200, store.stats())
        items = store.snapshot()
        if url.path == "/":
            return _html(_mail_page(items))
        if url.path == "/messages":
            since = int(parse_qs(url.query).get("since", ["0"])[0])
            return _json(200, [{k: v for k, v in m.items() if k != "raw"} for m in items[since:]])
        if url.path.startswith("/messages/") and url.path.rsplit("/", 1)[1].isdigit():
            number = int(url.path.rsplit("/", 1)[1])
            if 1 <= number <= len(items):
                item = items[number - 1]
                if "json" in (headers.get("Accept") or ""):
                    text, rich = message_parts(item)
                    return _json(200, {**{k: v for k, v in item.items() if k != "raw"}, "text": text, "html": rich})
                return _html(_message_page(item))
        return _json(404, {"message": "not found"})

    return route


def sms_routes(api: SmsApi) -> Callable[[str, str, Any, bytes], tuple[int, str, bytes]]:
    def route(method: str, path: str, headers: Any, body: bytes) -> tuple[int, str, bytes]:
        url = urlparse(path)
        if method == "POST":
            return _json(*api.post_message(url.path, headers, body))
        if url.path == "/stats":
            return _json(200, api.store.stats())
        items = api.store.snapshot()
        if url.path == "/":
            return _html(_sms_page(items))
        if url.path == "/messages":
            return _json(200, items[int(parse_qs(url.query).get("since", ["0"])[0]) :])
        if url.path == f"/2010-04-01/Accounts/{api.account}.json":
            return _json(200, {"sid": api.account, "status": "active"})
        return _json(404, {"code": 20404, "message": "not found", "status": 404})

    return route


def _serve_until_stopped(server: ThreadingHTTPServer, stop: Callable[[], None] = lambda: None) -> None:
    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    done.wait()
    server.shutdown()
    stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="sink", required=True)
    mail = sub.add_parser("mail")
    mail.add_argument("--smtp-port", type=int, required=True)
    mail.add_argument("--http-port", type=int, required=True)
    mail.add_argument("--store", type=Path, required=True)
    sms = sub.add_parser("sms")
    sms.add_argument("--host", default="127.0.0.1", help="0.0.0.0 in a container")
    sms.add_argument("--port", type=int, required=True)
    sms.add_argument("--store", type=Path, required=True)
    sms.add_argument("--account", default=DEV_SMS_ACCOUNT)
    sms.add_argument("--token", default=DEV_SMS_TOKEN)
    sms.add_argument("--token-file", type=Path, help="read the token from this file (a container secret)")
    args = parser.parse_args(argv)
    args.store.mkdir(parents=True, exist_ok=True)
    if args.sink == "mail":
        from aiosmtpd.controller import Controller

        store = Store(args.store / "mail.jsonl")
        controller = Controller(MailHandler(store), hostname="127.0.0.1", port=args.smtp_port, ready_timeout=10)
        controller.start()
        print(f"mail sink: SMTP on 127.0.0.1:{args.smtp_port}, web page http://127.0.0.1:{args.http_port}/", flush=True)
        _serve_until_stopped(http_server(args.http_port, mail_routes(store)), controller.stop)
    else:
        token = args.token_file.read_text().strip() if args.token_file else args.token
        api = SmsApi(Store(args.store / "sms.jsonl"), account=args.account, token=token)
        print(f"SMS sink: http://127.0.0.1:{args.port}/ (account {args.account})", flush=True)
        _serve_until_stopped(http_server(args.port, sms_routes(api), host=args.host))


if __name__ == "__main__":
    main()
