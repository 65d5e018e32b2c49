"""A wrong setting stops a service with one line naming it: no traceback, and never a value (pydantic's own
message echoed the raw settings, whose last entry was a secret)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ADMIN_PASSWORD = "ADMIN-the-first-admin-password-dddddddddd"
SMTP_PASSWORD = "SMTP-cccccccccccccccccccccccccccccccc"
PRODUCTION = {
    "ATHENAEUM_ENVIRONMENT": "production",
    "ATHENAEUM_DATABASE_URL": "postgresql+asyncpg://athenaeum@db:5432/athenaeum",
    "ATHENAEUM_DATABASE_PASSWORD": "DBPW-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    "ATHENAEUM_NATS_PASSWORD": "NATS-aaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "ATHENAEUM_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
    "ATHENAEUM_SMTP_PASSWORD": SMTP_PASSWORD,
}
SECRETS = tuple(value for name, value in PRODUCTION.items() if name.endswith("PASSWORD"))


def start(service: str, variables: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "gen" / "python")]),
        "ATHENAEUM_SOCKET": str(tmp_path / "s.sock"),
        **variables,
    }
    command = [sys.executable, "-m", f"services.{service}.main"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)


def assert_refused(result: subprocess.CompletedProcess[str], *settings: str, secrets: tuple[str, ...] = ()) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in output and "input_value" not in output, output
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 3 and all(line.startswith("configuration error: ") for line in lines), output
    for setting in settings:
        assert setting in output, output
    for secret in secrets:
        assert secret[-12:] not in output, output


def test_a_refused_production_setting_of_users_names_it_and_no_secret(tmp_path: Path) -> None:
    result = start("users", PRODUCTION, tmp_path)  # no signing-key passphrase
    assert_refused(result, "ATHENAEUM_SIGNING_KEY_PASSPHRASE", secrets=SECRETS)


def test_a_refused_production_setting_of_notifications_names_it_and_no_secret(tmp_path: Path) -> None:
    result = start("notifications", PRODUCTION, tmp_path)  # no SMS token
    assert_refused(result, "ATHENAEUM_SMS_AUTH_TOKEN", secrets=SECRETS)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("ATHENAEUM_LOG_LEVEL", "LOUD"),
        ("ATHENAEUM_DATABASE_URL", "notaurl-secretish"),
        ("ATHENAEUM_METRICS_PORT", "99999"),
        ("ATHENAEUM_PORT", "-1"),
        ("ATHENAEUM_EVENT_LOOP", "twisted-secretish"),
    ],
)
def test_a_wrong_setting_is_one_line_naming_it_without_its_value(setting: str, value: str, tmp_path: Path) -> None:
    result = start("catalog", {setting: value}, tmp_path)
    assert_refused(result, setting, secrets=(value,))


def test_a_time_zone_that_is_no_place_is_named_not_echoed(tmp_path: Path) -> None:
    result = start("loans", {"ATHENAEUM_LIBRARY_TIME_ZONE": "Mars/Olympus-secretish"}, tmp_path)
    assert_refused(result, "ATHENAEUM_LIBRARY_TIME_ZONE", secrets=("Olympus",))
