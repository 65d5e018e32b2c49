"""`athenaeum notifications check`: the line and why, for what UpdateNotificationTemplate would refuse, a file
that is not UTF-8 included (the service takes UTF-8 only); an unknown kind lists the kinds."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from services.notifications import cli


def _check(path: Path, kind: str = "hold_ready", *options: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, ["check", str(path), "--kind", kind, *options], env={"COLUMNS": "200"})
    return result.exit_code, " ".join(result.output.split())


def test_a_body_that_is_not_utf8_is_named_by_its_line(tmp_path: Path) -> None:
    body = tmp_path / "hold_ready.txt"
    body.write_bytes(b"Hello {{ display_name }},\n" + "ваша книга ждёт\n".encode("cp1251"))
    code, output = _check(body)
    assert code == 1
    assert output == f"{body}:2: not UTF-8 text; save it as UTF-8"


def test_a_body_that_compiles_is_ok_and_one_that_does_not_names_its_line(tmp_path: Path) -> None:
    body = tmp_path / "hold_ready.txt"
    body.write_text("Hello {{ display_name }},\nyour book is waiting.\n")
    assert _check(body)[0] == 0
    body.write_text("Hello,\n{{ display_name }\n")
    code, output = _check(body)
    assert code == 1 and output.startswith(f"{body}:2:")


def test_an_unknown_kind_lists_the_kinds(tmp_path: Path) -> None:
    body = tmp_path / "body.txt"
    body.write_text("Hello")
    code, output = _check(body, kind="nosuch")
    assert code == 1
    assert output.startswith("unknown kind 'nosuch'") and "hold_ready" in output


def test_a_body_the_service_refuses_for_its_size_is_not_ok(tmp_path: Path) -> None:
    body = tmp_path / "body.txt"
    body.write_text("   \n")
    assert _check(body) == (1, f"{body}: must not be empty")
    body.write_text("x" * 60_000)
    assert _check(body) == (1, f"{body}: must be at most 50000 characters")
    body.write_text("{{ book_title }} " * 100)  # 1,700 characters: an email's body, not an SMS's
    assert _check(body)[0] == 0
    assert _check(body, "hold_ready", "--channel", "sms") == (1, f"{body}: an SMS is at most 1600 characters")


def test_an_sms_preview_shows_the_text_as_sent_and_its_segments() -> None:
    result = CliRunner().invoke(cli.app, ["preview", "hold_ready", "--channel", "sms"], env={"COLUMNS": "200"})
    output = " ".join(result.output.split())
    assert result.exit_code == 0
    assert '"<book_title>" is ready' in output and output.endswith("(98 characters, GSM-7, 1 segment(s))")
