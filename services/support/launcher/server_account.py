"""The account the bundled Postgres runs as when the launcher runs as root (Postgres refuses to run as root).

An account of its own, `athenaeum-postgres`, made with `useradd --system` the first time a root launcher
needs it, not the shared `nobody`: daemons, NFS's root squash and `sudo -u nobody` jobs run as `nobody`, and
any process of the server's account reads every database file, or rewrites pg_hba.conf and signals the
postmaster. Where the account cannot be made (no `useradd`, a read-only /etc), the launcher stops and says how
to make it rather than fall back to `nobody`. A data folder an earlier launcher gave to `nobody` is handed over.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import subprocess
from pathlib import Path

ACCOUNT = "athenaeum-postgres"
_USERADD_PLACES = ("/usr/sbin/useradd", "/sbin/useradd")
_NOLOGIN_PLACES = ("/usr/sbin/nologin", "/sbin/nologin")


class NoServerAccount(RuntimeError):
    """The launcher runs as root and could not make the account Postgres would run as."""


def server_account() -> tuple[str, str]:
    """(user, group) Postgres runs as under a root launcher; the account is made first if it is missing."""
    try:
        user = pwd.getpwnam(ACCOUNT)
    except KeyError:
        failure = _make_account()
        try:
            user = pwd.getpwnam(ACCOUNT)  # made by us, or by a launcher that raced us
        except KeyError:
            raise NoServerAccount(
                f"Postgres may not run as root and there is no account '{ACCOUNT}' to run it as ({failure}). "
                f"Make it (`useradd --system --user-group --no-create-home --shell /usr/sbin/nologin {ACCOUNT}`) "
                "or start the mesh as an ordinary user."
            ) from None
    try:
        group = grp.getgrgid(user.pw_gid).gr_name
    except KeyError:
        group = str(user.pw_gid)
    return user.pw_name, group


def _make_account() -> str:
    """Run useradd (no stdin: CI has none); returns why it failed, or "" if it ran."""
    useradd = shutil.which("useradd") or next((p for p in _USERADD_PLACES if Path(p).exists()), None)
    if useradd is None:
        return "useradd was not found"
    shell = next((p for p in _NOLOGIN_PLACES if Path(p).exists()), "/bin/false")
    # fmt: off
    argv = [
        useradd, "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
        "--shell", shell, "--comment", "Athenaeum local Postgres", ACCOUNT,
    ]
    # fmt: on
    try:
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    except OSError as error:
        return f"useradd failed: {error.strerror}"
    return "" if result.returncode == 0 else f"useradd failed: {result.stderr.strip() or result.returncode}"


def hand_over(folder: Path, user: str) -> None:
    """Make `folder` and everything in it the account's (and its group's), if it is not already: a data
    folder an earlier launcher gave to `nobody`. The folder itself last, so an interrupted walk is done again."""
    account = pwd.getpwnam(user)
    uid, gid = account.pw_uid, account.pw_gid
    found = folder.stat()
    if (found.st_uid, found.st_gid) == (uid, gid):
        return
    for parent, folders, files in os.walk(folder):
        for name in (*folders, *files):
            os.lchown(os.path.join(parent, name), uid, gid)
    os.chown(folder, uid, gid)


def require_traversable(path: Path) -> None:
    """Every parent of `path` lets other accounts through (the server's account must reach its folder)."""
    for parent in path.resolve().parents:
        if not parent.stat().st_mode & stat.S_IXOTH:
            raise PermissionError(
                f"{parent} is not traversable by other users; Postgres runs as '{ACCOUNT}' when the launcher "
                "runs as root. Choose a data directory under a world-traversable path (not a 0700 temp dir)."
            )
