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
import logging
import signal
from pathlib import Path

from services.support.launcher.sink_http import READER, serve_http, serve_unix
from services.support.launcher.sink_receivers import (
    DEV_SMS_ACCOUNT,
    DEV_SMS_TOKEN,
    MailHandler,
    SmsApi,
    mail_routes,
    sms_routes,
)
from services.support.launcher.sink_store import Store

FLUSH_SECONDS = 0.2
"""How often a sink appends what it received (and did not wait for) to its file."""
READER_HELP = f"the file holding the password of the web pages and JSON (HTTP Basic, user {READER})"


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
