"""Local stand-ins for the outside world's mail server and SMS provider, for `athenaeum up` and the tests.

- The mail sink is an SMTP server (aiosmtpd; it offers PIPELINING) that keeps every message it accepts, in
  memory and on disk (appended in batches, not per message; accepted only once on disk, else 451: the sender
  tries again later), and shows them on a small web page
  (`/`, one message at `/messages/<n>`, JSON at `/messages`). A recipient whose local part is `reject-550` or
  `defer-451` is refused with that code, like a provider's mailbox simulator. A message whose Message-ID
  it already holds is kept too, marked `duplicate_of` the first (a mailbox shows it once).
- The SMS sink speaks a Twilio-style API: POST /2010-04-01/Accounts/{sid}/Messages.json (form To, From,
  Body; HTTP Basic auth with the sid and token), answering 201 with a message sid; the provider's magic test
  numbers are refused as it refuses them (+15005550001: invalid number, +15005550009: not a mobile). A
  request repeating an Idempotency-Key gets the first message back and sends nothing. A message it cannot
  store (a full disk) is answered 503, which a client retries.
- Their pages and JSON (every GET but `/stats`, which counts) need HTTP Basic: user `athenaeum` and the
  password in `--password-file` (the launcher keeps it in the data folder, readable by its owner only); the SMS
  sink without one takes its API's account and token, as the provider does.
- The launcher's sinks take mail (`--smtp-socket`) and SMS (`--api-socket`) on Unix sockets of mode 0600 in
  its owner-only run folder, and not on loopback: there any account of the machine could plant messages that
  look like the mesh's, or take the port while a sink restarts and receive the mesh's mail (reset links).
  Their loopback port then serves the pages only.

Each sink is one asyncio event loop (SMTP and HTTP, no threads).

Run one: `python -m services.support.launcher.sinks mail --smtp-port 2525 --http-port 2580 --store DIR
--password-file FILE`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from services.support.launcher.sink_http import (
    READER,
    Headers,
    Routes,
    basic_authorization,
    readers_only,
    serve_http,
    serve_unix,
)
from services.support.launcher.sink_pages import (
    decoded_headers,
    field,
    header_fields,
    mail_page,
    message_page,
    message_parts,
    sms_page,
)
from services.support.launcher.sink_store import Store

DEV_SMS_ACCOUNT = "ACathenaeumdev"
DEV_SMS_TOKEN = "dev-only-sms-token"
REFUSED_RECIPIENTS = {"reject-550": (550, "5.1.1 mailbox unavailable"), "defer-451": (451, "4.3.0 try again later")}
MAGIC_NUMBERS = {
    "+15005550001": (21211, "The 'To' number is not a valid phone number."),
    "+15005550009": (21614, "The 'To' number is not a mobile number."),
}


FLUSH_SECONDS = 0.2
"""How often a sink appends what it received (and did not wait for) to its file."""
NOT_STORED_SMTP = "451 4.3.0 the message could not be stored; try again later"
READER_HELP = f"the file holding the password of the web pages and JSON (HTTP Basic, user {READER})"
NOT_STORED_SMS = {"code": 20503, "message": "Service unavailable: the message could not be stored", "status": 503}


# Mail -------------------------------------------------------------------------------------------------


class MailHandler:
    """aiosmtpd handler: offer PIPELINING, refuse the simulator's addresses, keep everything else as received
    (headers split but not decoded: decoding and MIME parsing wait until someone reads the message)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        # aiosmtpd reads one command line at a time, so a client may send MAIL, RCPT and DATA in one write.
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]] if responses else responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        refused = REFUSED_RECIPIENTS.get(address.partition("@")[0].lower())
        if refused is not None:
            return f"{refused[0]} {refused[1]}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw: bytes = envelope.original_content or envelope.content
        headers = header_fields(raw)
        try:
            await self.store.keep(
                {
                    "received_at": time.time(),
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": list(envelope.rcpt_tos),
                    "headers": headers,
                    "key": field(headers, "Message-ID"),
                    "raw": raw.decode("utf-8", errors="replace"),
                }
            )
        except OSError:  # a full disk: a temporary failure, which the sender retries
            return NOT_STORED_SMTP
        return "250 Message accepted"


# SMS --------------------------------------------------------------------------------------------------


class SmsApi:
    """The provider's side of the Twilio-style API."""

    def __init__(self, store: Store, *, account: str, token: str) -> None:
        self.store = store
        self.account = account
        self.authorization = basic_authorization(account, token)

    async def post_message(self, path: str, headers: Headers, body: bytes) -> tuple[int, dict[str, Any]]:
        if path != f"/2010-04-01/Accounts/{self.account}/Messages.json":
            return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
        if headers.get("Authorization") != self.authorization:
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
        try:
            await self.store.keep(item)
        except OSError:  # a full disk: the provider is unavailable for now, which the client retries
            return 503, NOT_STORED_SMS
        return 201, {**item, "status": "queued", "account_sid": self.account, "num_segments": str(len(text) // 153 + 1)}


# Routes -----------------------------------------------------------------------------------------------


def _json(status: int, data: Any) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps(data, ensure_ascii=False).encode()


def _html(text: str) -> tuple[int, str, bytes]:
    return 200, "text/html; charset=utf-8", text.encode()


def _readable(item: dict[str, Any]) -> dict[str, Any]:
    """A kept email as the JSON shows it: decoded headers, no raw message."""
    return {**{k: v for k, v in item.items() if k != "raw"}, "headers": decoded_headers(item)}


def mail_routes(store: Store, *, password: str) -> Routes:
    """The mail sink's pages and JSON, for whoever signs in as READER with `password`."""

    def route(method: str, path: str, headers: Headers, body: bytes) -> tuple[int, str, bytes]:
        url = urlparse(path)
        items = store.items
        if url.path == "/stats":  # polled often: no copy of the whole store
            return _json(200, store.stats())
        if url.path == "/":
            return _html(mail_page(items))
        if url.path == "/messages":
            since = int(parse_qs(url.query).get("since", ["0"])[0])
            return _json(200, [_readable(m) for m in items[since:]])
        if url.path.startswith("/messages/") and url.path.rsplit("/", 1)[1].isdigit():
            number = int(url.path.rsplit("/", 1)[1])
            if 1 <= number <= len(items):
                item = items[number - 1]
                if "json" in (headers.get("Accept") or ""):
                    text, rich = message_parts(item)
                    return _json(200, {**_readable(item), "text": text, "html": rich})
                return _html(message_page(item))
        return _json(404, {"message": "not found"})

    return readers_only(route, [basic_authorization(READER, password)])


def sms_routes(api: SmsApi, *, password: str | None, sending: bool = True) -> Routes:
    """The SMS API (unless not `sending`: it is on a socket of its own) and the sink's pages and JSON: those
    for whoever signs in as READER with `password`, or without one (a container's sink, whose token is a
    secret) with the API's own account and token."""

    async def route(method: str, path: str, headers: Headers, body: bytes) -> tuple[int, str, bytes]:
        url = urlparse(path)
        if method == "POST" and not sending:
            return _json(404, {"code": 20404, "message": "messages are sent through the sink's socket", "status": 404})
        if method == "POST":
            return _json(*await api.post_message(url.path, headers, body))
        if url.path == "/stats":
            return _json(200, api.store.stats())
        items = api.store.items
        if url.path == "/":
            return _html(sms_page(items))
        if url.path == "/messages":
            return _json(200, items[int(parse_qs(url.query).get("since", ["0"])[0]) :])
        if url.path == f"/2010-04-01/Accounts/{api.account}.json":
            return _json(200, {"sid": api.account, "status": "active"})
        return _json(404, {"code": 20404, "message": "not found", "status": 404})

    readers = [basic_authorization(READER, password)] if password else [api.authorization]
    return readers_only(route, readers)


# Running ----------------------------------------------------------------------------------------------


async def _serve(store: Store, servers: list[asyncio.Server]) -> None:
    """Flush the store a few times a second until SIGTERM/SIGINT, then close the servers and flush once more."""
    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    try:
        while not stopped.is_set():
            with contextlib.suppress(OSError):  # logged by the store; nobody waited for these
                store.flush()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopped.wait(), FLUSH_SECONDS)
    finally:
        for server in servers:
            server.close()
        store.close()


async def run_mail(smtp: int | Path, http_port: int, folder: Path, *, password: str) -> None:
    """SMTP on `smtp`: a loopback port, or a Unix socket's path."""
    from aiosmtpd.smtp import SMTP

    store = Store(folder / "mail.jsonl")
    handler = MailHandler(store)
    loop = asyncio.get_running_loop()

    def session() -> SMTP:
        return SMTP(handler, hostname="athenaeum-mail-sink", loop=loop)

    if isinstance(smtp, Path):
        server = await serve_unix(session, smtp)
    else:
        server = await loop.create_server(session, "127.0.0.1", smtp, backlog=512)
    web = await serve_http(http_port, mail_routes(store, password=password))
    where = smtp if isinstance(smtp, Path) else f"127.0.0.1:{smtp}"
    print(f"mail sink: SMTP on {where}, web page http://127.0.0.1:{http_port}/", flush=True)
    await _serve(store, [server, web])


async def run_sms(
    port: int, folder: Path, *, host: str, account: str, token: str, password: str | None, api_socket: Path | None
) -> None:
    """Pages on host:`port`; the API there too, or only on `api_socket` when given."""
    api = SmsApi(Store(folder / "sms.jsonl"), account=account, token=token)
    servers = [await serve_http(port, sms_routes(api, password=password, sending=api_socket is None), host=host)]
    if api_socket is not None:
        servers.append(await serve_http(port, sms_routes(api, password=password), socket_path=api_socket))
    print(f"SMS sink: http://127.0.0.1:{port}/ (account {account}; API on {api_socket or 'it'})", flush=True)
    await _serve(api.store, servers)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="sink", required=True)
    mail = sub.add_parser("mail")
    smtp = mail.add_mutually_exclusive_group(required=True)
    smtp.add_argument("--smtp-port", type=int)
    smtp.add_argument("--smtp-socket", type=Path, help="SMTP on this Unix socket (mode 0600) instead")
    mail.add_argument("--http-port", type=int, required=True)
    mail.add_argument("--store", type=Path, required=True)
    mail.add_argument("--password-file", type=Path, required=True, help=READER_HELP)
    sms = sub.add_parser("sms")
    sms.add_argument("--host", default="127.0.0.1", help="0.0.0.0 in a container")
    sms.add_argument("--port", type=int, required=True)
    sms.add_argument("--api-socket", type=Path, help="the API on this Unix socket (mode 0600) only, not on --port")
    sms.add_argument("--store", type=Path, required=True)
    sms.add_argument("--account", default=DEV_SMS_ACCOUNT)
    sms.add_argument("--token", default=DEV_SMS_TOKEN)
    sms.add_argument("--token-file", type=Path, help="read the token from this file (a container secret)")
    sms.add_argument("--password-file", type=Path, help=READER_HELP + " (default: the account and token)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")  # not per command
    password = args.password_file.read_text().strip() if args.password_file else None
    if args.password_file and not password:
        parser.error(f"{args.password_file} is empty")
    if args.sink == "mail":
        smtp = args.smtp_socket or args.smtp_port
        asyncio.run(run_mail(smtp, args.http_port, args.store, password=password or ""))
    else:
        token = args.token_file.read_text().strip() if args.token_file else args.token
        serving = run_sms(
            args.port,
            args.store,
            host=args.host,
            account=args.account,
            token=token,
            password=password,
            api_socket=args.api_socket,
        )
        asyncio.run(serving)


if __name__ == "__main__":
    main()
