"""The secrets of the local mesh's own Postgres and NATS: made once per data folder and kept in files only
their owner may read, so a process of another account on the machine reaches neither. (A process of the same
account could read them, as it could read the services' memory: that account is the mesh's.)"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from services.support.launcher.ownership import private_folder, require_ours
from services.support.mesh.certs import OWNER_ONLY, write_atomically


def kept_secret(path: Path) -> str:
    """The secret kept in `path`, made on first use (32 URL-safe characters: no escaping in a URL); NotOurs
    when another account owns the file or its folder, or may write to either (it may have chosen the secret)."""
    private_folder(path.parent)
    require_ours(path)
    if path.exists():
        return path.read_text().strip()
    draft = path.with_name(f".{path.name}.{os.getpid()}.draft")
    write_atomically(draft, secrets.token_urlsafe(24).encode(), mode=OWNER_ONLY)
    try:
        with contextlib.suppress(FileExistsError):  # another process made it first: theirs is kept
            os.link(draft, path)  # appears whole or not at all
    finally:
        draft.unlink()
    return path.read_text().strip()


def without_secret(url: str) -> str:
    """`url` as it may be shown or recorded: its user and password (or token) replaced by `***`."""
    scheme, separator, rest = url.partition("://")
    if not separator or "@" not in rest.split("/", 1)[0]:
        return url
    return f"{scheme}://***@{rest.split('@', 1)[1]}"
