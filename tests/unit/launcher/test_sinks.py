"""The local sinks on their own event loop: what a client sends is kept, read back decoded, and written to the
file in batches; the mail sink offers PIPELINING and takes MAIL, RCPT and DATA in one write. What the disk does
not take is refused for the sender to retry, and a line a full disk cut short does not stop the next start."""

from __future__ import annotations

import asyncio
import base64
import errno
import json
import os
import stat
from email.header import Header
from email.mime.text import MIMEText
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP

from services.support.launcher.sink_http import serve_http
from services.support.launcher.sink_pages import decoded_headers, header_fields
from services.support.launcher.sink_receivers import DEV_SMS_ACCOUNT, DEV_SMS_TOKEN, MailHandler, SmsApi, sms_routes
from services.support.launcher.sink_store import Store


def test_the_store_writes_its_file_once_per_flush_and_reads_it_back(tmp_path: Path) -> None:
    store = Store(tmp_path / "kept.jsonl")
    store.add({"key": "a", "body": "one"})
    store.add({"key": "a", "body": "again"})
    assert (tmp_path / "kept.jsonl").read_text() == ""  # nothing written per message
    assert store.flush() == 2
    store.close()
    reopened = Store(tmp_path / "kept.jsonl")
    assert [item["n"] for item in reopened.items] == [1, 2]
    assert reopened.items[1]["duplicate_of"] == 1
    assert reopened.stats() == {"count": 1, "duplicates": 1}


def test_headers_are_split_cheaply_and_decoded_when_read() -> None:
    message = MIMEText("text", "plain", "utf-8")
    message["Subject"] = Header("Книга ждёт вас: " + "очень длинное название " * 4, "utf-8")  # type: ignore[assignment]
    message["Message-ID"] = "<abc@example.org>"
    fields = header_fields(message.as_bytes())
    assert fields["Message-ID"] == "<abc@example.org>"
    assert "=?utf-8?" in fields["Subject"]
    assert decoded_headers({"headers": fields})["Subject"] == "Книга ждёт вас: " + "очень длинное название " * 4


async def _reply(reader: asyncio.StreamReader) -> bytes:
    while (line := await reader.readline())[3:4] == b"-":
        pass
    return line


async def test_the_mail_sink_takes_pipelined_commands(tmp_path: Path) -> None:
    store = Store(tmp_path / "mail.jsonl")
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(MailHandler(store), loop=loop), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await _reply(reader)
    writer.write(b"EHLO test\r\n")
    assert b"PIPELINING" in await reader.readuntil(b"250 HELP\r\n")
    writer.write(b"MAIL FROM:<a@x.org>\r\nRCPT TO:<reader@x.org>\r\nDATA\r\n")
    assert [(await _reply(reader))[:3] for _ in range(3)] == [b"250", b"250", b"354"]
    writer.write(b"Message-ID: <m1@x.org>\r\nSubject: hi\r\n\r\nbody\r\n.\r\n")
    assert (await _reply(reader))[:3] == b"250"
    writer.write(b"MAIL FROM:<a@x.org>\r\nRCPT TO:<reject-550@x.org>\r\nDATA\r\n")
    assert [(await _reply(reader))[:3] for _ in range(3)] == [b"250", b"550", b"503"]
    writer.close()
    server.close()
    assert [(m["rcpt_tos"], m["key"], m["headers"]["Subject"]) for m in store.items] == [
        (["reader@x.org"], "<m1@x.org>", "hi")
    ]


async def test_the_sms_sink_answers_keep_alive_requests_and_repeats_a_keyed_message(tmp_path: Path) -> None:
    api = SmsApi(Store(tmp_path / "sms.jsonl"), account=DEV_SMS_ACCOUNT, token=DEV_SMS_TOKEN)
    server = await serve_http(0, sms_routes(api, password=None))
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    auth = base64.b64encode(f"{DEV_SMS_ACCOUNT}:{DEV_SMS_TOKEN}".encode()).decode()

    async def post(form: bytes, key: str) -> tuple[bytes, dict]:
        writer.write(
            f"POST /2010-04-01/Accounts/{DEV_SMS_ACCOUNT}/Messages.json HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Basic {auth}\r\nIdempotency-Key: {key}\r\nContent-Length: {len(form)}\r\n\r\n".encode()
            + form
        )
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        return head.split(b" ")[1], json.loads(await reader.readexactly(length))

    first = await post(b"To=%2B79990000001&From=%2B1&Body=hello", "k1")
    again = await post(b"To=%2B79990000001&From=%2B1&Body=hello", "k1")
    invalid = await post(b"To=%2B15005550001&From=%2B1&Body=hello", "k2")
    writer.close()
    server.close()
    assert (first[0], again[0], again[1]["sid"]) == (b"201", b"201", first[1]["sid"])
    assert (invalid[0], invalid[1]["code"]) == (b"400", 21211)
    assert api.store.stats() == {"count": 1, "duplicates": 0}


def test_the_store_keeps_its_folder_and_file_for_the_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "sinks"
    folder.mkdir(mode=0o755)  # as made before 2026-12-06, with a message any account could read
    (folder / "mail.jsonl").write_text(json.dumps({"key": "a", "body": "old"}) + "\n")
    (folder / "mail.jsonl").chmod(0o644)
    previous = os.umask(0o022)
    try:
        kept, fresh = Store(folder / "mail.jsonl"), Store(tmp_path / "new" / "sms.jsonl")
    finally:
        os.umask(previous)

    assert [item["body"] for item in kept.items] == ["old"]
    for path, mode in ((folder, 0o700), (folder / "mail.jsonl", 0o600), (tmp_path / "new", 0o700)):
        assert stat.S_IMODE(path.stat().st_mode) == mode, path
    assert stat.S_IMODE((tmp_path / "new" / "sms.jsonl").stat().st_mode) == 0o600
    kept.add({"key": "b", "body": "new"})
    kept.close()
    fresh.close()
    assert [item["body"] for item in Store(folder / "mail.jsonl").items] == ["old", "new"]


def test_a_line_cut_short_by_a_full_disk_is_dropped_at_start_and_the_file_goes_on_whole(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "mail.jsonl"
    whole = "".join(json.dumps({"key": f"<m{n}@x.org>", "n": n}) + "\n" for n in (1, 2))
    path.write_text(whole + '{"received_at": 1796577695.34, "headers": {"Fro')  # the last append, cut short

    store = Store(path)

    assert [item["n"] for item in store.items] == [1, 2]
    assert "mail.jsonl ended in a line cut short (47 bytes): dropped" in caplog.text
    assert path.read_text() == whole  # cut back to its last whole line: the next append starts a line
    store.add({"key": "<m3@x.org>"})
    store.close()
    assert [item["n"] for item in Store(path).items] == [1, 2, 3]


def test_a_batch_the_disk_takes_only_part_of_is_cut_off_and_forgotten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "sms.jsonl"
    store = Store(path)
    store.add({"key": "a", "body": "stored"})
    store.flush()
    store.add({"key": "b", "body": "not stored"})
    store.add({"key": "a", "body": "a copy"})
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda descriptor, data: real_write(descriptor, data[:10]))  # then full

    with pytest.raises(OSError) as failed:
        store.flush()

    monkeypatch.undo()
    assert failed.value.errno == errno.ENOSPC
    assert path.read_text() == json.dumps({"key": "a", "body": "stored", "n": 1}) + "\n"
    assert [item["body"] for item in store.items] == ["stored"] and store.stats() == {"count": 1, "duplicates": 0}
    assert store.first_with("b") is None  # a retry is a first message, not a copy
    store.add({"key": "b", "body": "retried"})
    store.close()
    assert [item["body"] for item in Store(path).items] == ["stored", "retried"]


def _disk_full(data: bytes) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


async def test_a_mail_the_sink_cannot_store_is_refused_with_451_for_the_sender_to_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "mail.jsonl")
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(MailHandler(store), loop=loop), "127.0.0.1", 0)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1])
    await _reply(reader)
    writer.write(b"EHLO test\r\n")
    await reader.readuntil(b"250 HELP\r\n")

    async def send(message_id: bytes) -> bytes:
        writer.write(b"MAIL FROM:<a@x.org>\r\nRCPT TO:<reader@x.org>\r\nDATA\r\n")
        assert [(await _reply(reader))[:3] for _ in range(3)] == [b"250", b"250", b"354"]
        writer.write(b"Message-ID: " + message_id + b"\r\nSubject: hi\r\n\r\nbody\r\n.\r\n")
        return await _reply(reader)

    stored = await send(b"<m1@x.org>")
    monkeypatch.setattr(store, "_append", _disk_full)
    refused = await send(b"<m2@x.org>")
    monkeypatch.undo()
    retried = await send(b"<m2@x.org>")
    writer.close()
    server.close()

    assert (stored[:3], refused[:4], retried[:3]) == (b"250", b"451 ", b"250")
    assert [(m["key"], "duplicate_of" in m) for m in store.items] == [("<m1@x.org>", False), ("<m2@x.org>", False)]
    store.close()
    assert len(Store(tmp_path / "mail.jsonl").items) == 2


async def test_an_sms_the_sink_cannot_store_is_answered_503(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    api = SmsApi(Store(tmp_path / "sms.jsonl"), account=DEV_SMS_ACCOUNT, token=DEV_SMS_TOKEN)
    auth = "Basic " + base64.b64encode(f"{DEV_SMS_ACCOUNT}:{DEV_SMS_TOKEN}".encode()).decode()
    path = f"/2010-04-01/Accounts/{DEV_SMS_ACCOUNT}/Messages.json"
    monkeypatch.setattr(api.store, "_append", _disk_full)

    status, body = await api.post_message(
        path, {"Authorization": auth, "Idempotency-Key": "k1"}, b"To=%2B79990000001&From=%2B1&Body=hello"
    )

    assert (status, body["status"]) == (503, 503)
    assert api.store.items == [] and api.store.first_with("k1") is None
