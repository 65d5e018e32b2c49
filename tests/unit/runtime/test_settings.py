"""Settings from ATHENAEUM_* variables, ATHENAEUM_*_FILE files (compose and Kubernetes secrets) and the
database password kept out of the URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from services.support.runtime.settings import BaseServiceSettings
from services.users.settings import UsersSettings

URL = "postgresql+asyncpg://athenaeum@postgres:5432/athenaeum_users"


def secret_file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_a_file_variable_gives_the_setting_the_file_content_without_its_last_newline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATHENAEUM_SIGNING_KEY_PASSPHRASE_FILE", secret_file(tmp_path, "passphrase", "s3cret\n"))

    assert UsersSettings().signing_key_passphrase.get_secret_value() == "s3cret"


def test_the_database_password_goes_into_the_url_quoted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATHENAEUM_DATABASE_URL", URL)
    monkeypatch.setenv("ATHENAEUM_DATABASE_PASSWORD_FILE", secret_file(tmp_path, "pw", "p@ss/w:rd%\n"))

    url = make_url(BaseServiceSettings().database_url)

    assert url.password == "p@ss/w:rd%"
    assert (url.username, url.host, url.database) == ("athenaeum", "postgres", "athenaeum_users")


def test_without_a_password_the_url_is_left_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATHENAEUM_DATABASE_URL", URL)

    assert BaseServiceSettings().database_url == URL


def test_an_unreadable_file_variable_is_named_in_the_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ATHENAEUM_DATABASE_PASSWORD_FILE", str(tmp_path / "missing"))

    with pytest.raises(ValueError, match="ATHENAEUM_DATABASE_PASSWORD_FILE: cannot read"):
        BaseServiceSettings()


def test_production_refuses_a_dev_placeholder_database_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATHENAEUM_DATABASE_URL", URL)
    monkeypatch.setenv("ATHENAEUM_DATABASE_PASSWORD", "athenaeum-dev-only")

    assert BaseServiceSettings(environment="dev").database_url.startswith("postgresql+asyncpg://athenaeum:")
    with pytest.raises(ValidationError, match="dev placeholder"):
        BaseServiceSettings(environment="production")
    monkeypatch.setenv("ATHENAEUM_DATABASE_PASSWORD", "a-real-one")
    assert BaseServiceSettings(environment="production").environment == "production"
