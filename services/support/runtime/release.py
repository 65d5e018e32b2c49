"""The release's one version: pyproject.toml's `[project] version`.

Read from the pyproject.toml beside the source when there is one (a checkout; the image keeps it too), else from
the installed distribution's metadata.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "athenaeum"
PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"
UNKNOWN = "0+unknown"


@cache
def version() -> str:
    """The release version, e.g. "0.1.0"."""
    try:
        return str(tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        pass
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return UNKNOWN
