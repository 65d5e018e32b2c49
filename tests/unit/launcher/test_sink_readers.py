"""The sinks' pages and JSON hold every notice the mesh sent (addresses, phone numbers, security notices) on a
port of 127.0.0.1 that every account of the machine reaches: they answer only whoever signs in with the
password in the mesh's own folder (the SMS sink in a container: with its API's account and token)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from services.support.launcher.sink_http import READER, basic_authorization, serve_http
from services.support.launcher.sink_receivers import DEV_SMS_ACCOUNT, DEV_SMS_TOKEN, SmsApi, mail_routes, sms_routes
from services.support.launcher.sink_store import Store

PASSWORD = "only-the-owner-knows"
READING = ["/", "/messages", "/messages?since=0", "/messages/1"]


def _mail_store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "mail.jsonl")
    raw = "Subject: We signed you out\r\nMessage-ID: <1@x>\r\n\r\nada@example.org, your tokens were stolen\r\n"
    headers = {"Subject": "We signed you out"}
    store.add({"rcpt_tos": ["ada@example.org"], "headers": headers, "key": "<1@x>", "raw": raw})
    return store


async def _get(port: int, path: str, authorization: str | None) -> tuple[int, str, bytes]:
    """One GET over real HTTP: (status, WWW-Authenticate, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    signed = f"Authorization: {authorization}\r\n" if authorization else ""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n{signed}Connection: close\r\n\r\n".encode())
    answer = await reader.read()
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    challenge = next((line.split(": ", 1)[1] for line in lines if line.lower().startswith("www-authenticate")), "")
    return int(lines[0].split(" ")[1]), challenge, body


@pytest.mark.parametrize("path", READING)
async def test_the_mail_sink_refuses_to_show_a_message_to_whoever_does_not_sign_in(tmp_path: Path, path: str) -> None:
    server = await serve_http(0, mail_routes(_mail_store(tmp_path), password=PASSWORD))
    port = server.sockets[0].getsockname()[1]
    try:
        anonymous = await _get(port, path, None)
        guessed = await _get(port, path, basic_authorization(READER, "dev-only-sms-token"))
        owner = await _get(port, path, basic_authorization(READER, PASSWORD))
    finally:
        server.close()
    assert (anonymous[0], guessed[0]) == (401, 401)
    assert anonymous[1].startswith("Basic ")  # a browser asks for the user name and password
    assert b"ada@example.org" not in anonymous[2] + guessed[2]
    assert owner[0] == 200 and b"ada@example.org" in owner[2]


@pytest.mark.parametrize("password", [PASSWORD, None])
async def test_the_sms_sink_shows_its_messages_only_to_its_reader(tmp_path: Path, password: str | None) -> None:
    api = SmsApi(Store(tmp_path / "sms.jsonl"), account=DEV_SMS_ACCOUNT, token=DEV_SMS_TOKEN)
    api.store.add({"sid": "SM1", "to": "+79990000001", "body": "Your code is 1234", "key": ""})
    reader = basic_authorization(READER, PASSWORD) if password else basic_authorization(DEV_SMS_ACCOUNT, DEV_SMS_TOKEN)
    other = basic_authorization(DEV_SMS_ACCOUNT, DEV_SMS_TOKEN) if password else basic_authorization(READER, PASSWORD)
    server = await serve_http(0, sms_routes(api, password=password))
    port = server.sockets[0].getsockname()[1]
    try:
        refused = [(await _get(port, path, signed))[0] for path in READING[:3] for signed in (None, other)]
        shown = await _get(port, "/messages", reader)
        counted = await _get(port, "/stats", None)
    finally:
        server.close()
    assert refused == [401] * 6
    assert shown[0] == 200 and json.loads(shown[2])[0]["to"] == "+79990000001"
    assert counted[0] == 200 and json.loads(counted[2]) == {"count": 1, "duplicates": 0}  # probes: counts only
