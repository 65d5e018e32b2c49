"""`athenaeum mail` against the sinks' real HTTP side: a message shown in full; one the sink does not hold, or
a sink that no longer answers, told in one line with exit code 1, never a traceback."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from email.mime.text import MIMEText
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.support.launcher import cli
from services.support.launcher.sink_http import serve_http
from services.support.launcher.sink_pages import header_fields
from services.support.launcher.sink_receivers import DEV_SMS_ACCOUNT, DEV_SMS_TOKEN, SmsApi, mail_routes, sms_routes
from services.support.launcher.sink_servers import password_file
from services.support.launcher.sink_store import Store
from services.support.launcher.state import write_state
from services.support.mesh.topology import free_ports

pytestmark = pytest.mark.integration


def _kept_mail(store: Store, text: str) -> None:
    """A message as the mail sink keeps what it receives over SMTP."""
    message = MIMEText(text, "plain", "utf-8")
    message["Subject"], message["Message-ID"] = "Your hold is ready", "<1@athenaeum.test>"
    raw = message.as_bytes()
    kept = {"rcpt_tos": ["reader@example.org"], "headers": header_fields(raw), "key": "<1@athenaeum.test>"}
    store.add({**kept, "raw": raw.decode()})


@pytest.fixture
def sinks(tmp_path: Path) -> Iterator[Path]:
    """A mail and an SMS sink serving one message each, recorded as a running mesh's endpoints."""
    mail, sms = Store(tmp_path / "mail.jsonl"), Store(tmp_path / "sms.jsonl")
    _kept_mail(mail, "Please pick it up by Sunday.")
    sms.add({"sid": "SM1", "to": "+15005550006", "body": "Your hold is ready", "key": ""})
    loop = asyncio.new_event_loop()
    ports = free_ports()
    mail_port, sms_port = next(ports), next(ports)
    api = SmsApi(sms, account=DEV_SMS_ACCOUNT, token=DEV_SMS_TOKEN)
    (tmp_path / "sinks").mkdir(mode=0o700)
    password_file(tmp_path / "sinks").write_text("the-owner-s-password\n")  # as `up` keeps it
    servers = [
        loop.run_until_complete(serve_http(mail_port, mail_routes(mail, password="the-owner-s-password"))),
        loop.run_until_complete(serve_http(sms_port, sms_routes(api, password="the-owner-s-password"))),
    ]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    endpoints = {"mail": f"http://127.0.0.1:{mail_port}", "sms": f"http://127.0.0.1:{sms_port}"}
    write_state(tmp_path, [], endpoints, ready=True)
    try:
        yield tmp_path
    finally:
        for server in servers:
            loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


def _mail(data_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, ["mail", "--data-dir", str(data_dir), *args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


@pytest.mark.parametrize(("kind", "expected"), [((), "Please pick it up by Sunday."), (("--sms",), "hold is ready")])
def test_a_message_the_sink_holds_is_shown_in_full(sinks: Path, kind: tuple[str, ...], expected: str) -> None:
    code, output = _mail(sinks, *kind, "--show", "1")
    assert code == 0 and expected in output


@pytest.mark.parametrize("kind", [(), ("--sms",)])
def test_a_message_the_sink_does_not_hold_is_named_in_one_line(sinks: Path, kind: tuple[str, ...]) -> None:
    code, output = _mail(sinks, *kind, "--show", "2")
    assert code == 1
    assert output.strip().startswith("The sink holds no message 2") and "Traceback" not in output


def test_a_sink_that_no_longer_answers_is_told_in_one_line(tmp_path: Path) -> None:
    gone = next(free_ports())  # nothing listens there
    write_state(tmp_path, [], {"mail": f"http://127.0.0.1:{gone}"}, ready=True)
    (tmp_path / "sinks").mkdir(mode=0o700)
    password_file(tmp_path / "sinks").write_text("the-owner-s-password\n")
    for args in ((), ("--show", "1")):
        code, output = _mail(tmp_path, *args)
        assert code == 1
        assert output.strip().startswith("The mail sink at") and "does not answer" in output


def test_without_the_sinks_password_nothing_is_shown(sinks: Path) -> None:
    password_file(sinks / "sinks").unlink()  # another account's mesh: its folder is not readable here
    for args in ((), ("--sms",), ("--show", "1")):
        code, output = _mail(sinks, *args)
        assert code == 1 and output.strip().startswith("The sinks' password") and "Traceback" not in output
