"""What the mail and SMS sinks (launcher/sinks.py) do with what they are given: the SMTP handler, the
Twilio-style SMS API, and both sinks' web pages and JSON."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlparse

from services.support.launcher.sink_http import READER, Headers, Routes, basic_authorization, readers_only
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


NOT_STORED_SMTP = "451 4.3.0 the message could not be stored; try again later"
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
