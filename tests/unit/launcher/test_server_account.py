"""The account a root launcher runs Postgres as: its own, made when missing, never the shared `nobody`."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from services.support.launcher import server_account
from services.support.launcher.server_account import ACCOUNT, NoServerAccount


def _missing(name: str) -> pwd.struct_passwd:
    raise KeyError(name)


def _fake_useradd(folder: Path, *, exit_code: int) -> Path:
    script = folder / "useradd"
    script.write_text(
        f'#!/bin/sh\necho "$@" > {folder / "argv"}\necho "cannot lock /etc/passwd" >&2\nexit {exit_code}\n'
    )
    script.chmod(0o755)
    return script


def test_a_missing_account_is_made_as_a_system_account_without_a_login_and_without_stdin(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    made = pwd.getpwuid(os.getuid())
    calls: list[str] = []

    def getpwnam(name: str) -> pwd.struct_passwd:
        calls.append(name)
        if len(calls) == 1:
            raise KeyError(name)
        return made

    monkeypatch.setattr(server_account.pwd, "getpwnam", getpwnam)
    monkeypatch.setattr(server_account.shutil, "which", lambda name: str(_fake_useradd(tmp_path, exit_code=0)))

    assert server_account.server_account()[0] == made.pw_name
    argv = (tmp_path / "argv").read_text().split()
    assert argv[0] == "--system" and "--user-group" in argv and argv[-1] == ACCOUNT
    assert argv[argv.index("--shell") + 1] in ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false")


def test_an_account_that_cannot_be_made_stops_the_launcher_with_how_to_make_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(server_account.pwd, "getpwnam", _missing)
    monkeypatch.setattr(server_account.shutil, "which", lambda name: str(_fake_useradd(tmp_path, exit_code=10)))

    with pytest.raises(NoServerAccount) as refused:
        server_account.server_account()

    assert "cannot lock /etc/passwd" in str(refused.value)
    assert "useradd --system" in str(refused.value) and "nobody" not in str(refused.value)


def test_without_useradd_the_launcher_stops_and_does_not_fall_back_to_nobody(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_account.pwd, "getpwnam", _missing)
    monkeypatch.setattr(server_account.shutil, "which", lambda name: None)
    monkeypatch.setattr(server_account, "_USERADD_PLACES", ())

    with pytest.raises(NoServerAccount, match="useradd was not found"):
        server_account.server_account()


@pytest.mark.skipif(os.geteuid() != 0, reason="handing files to another account needs root")
def test_a_folder_of_another_account_is_handed_over_with_everything_in_it(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    (folder / "global").mkdir(parents=True)
    (folder / "global" / "1260").write_text("")
    nobody = pwd.getpwnam("nobody")
    for path in (folder, folder / "global", folder / "global" / "1260"):
        os.chown(path, nobody.pw_uid, nobody.pw_gid)

    server_account.hand_over(folder, "root")

    for path in (folder, folder / "global", folder / "global" / "1260"):
        assert (path.stat().st_uid, path.stat().st_gid) == (0, 0)
