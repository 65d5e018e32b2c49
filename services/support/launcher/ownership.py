"""The data folder, and the secrets and private folders in it, must be this account's alone.

Another account that made the folder first (anywhere shared: /tmp, a team share) would otherwise choose the
Postgres password and the NATS token, and own the folders of the mesh's certificates and sockets. Like ssh
with its keys, the launcher refuses such a folder or file rather than use it.
"""

from __future__ import annotations

import os
import pwd
import stat
from pathlib import Path

OTHERS_MAY_WRITE = stat.S_IWGRP | stat.S_IWOTH


class NotOurs(RuntimeError):
    """A folder or file of the mesh's data that another account owns or may write to."""


def require_ours(path: Path, *, private: bool = True) -> None:
    """Refuse `path`, when it exists, if another account owns it or (`private`) another may write to it."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    if info.st_uid != os.geteuid():
        raise NotOurs(
            f"{path} belongs to another account ({_account(info.st_uid)}), who may have chosen its secrets: "
            "use a data folder of your own (--data-dir)"
        )
    if private and info.st_mode & OTHERS_MAY_WRITE:
        raise NotOurs(
            f"{path} may be written by other accounts (mode {stat.S_IMODE(info.st_mode):o}): remove it, or "
            f"`chmod go-w {path}` if you trust what it holds"
        )


def private_folder(path: Path) -> Path:
    """`path`, made owner-only if missing; refused if another account owns it or may write to it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    require_ours(path)
    return path


def require_own_data_dir(data_dir: Path) -> None:
    """The data folder is ours and only we may write to it, and every entry in it is ours (the lock file, the
    state, `logs/`… were all made by the launcher; a foreign one was planted)."""
    require_ours(data_dir)
    for entry in data_dir.iterdir():
        require_ours(entry, private=False)


def _account(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"
