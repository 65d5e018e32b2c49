"""The release's one version: pyproject.toml's `[project] version`.

From the installed distribution's metadata (`./athenaeum` installs it editable), else from the pyproject.toml
beside the source (the image runs the source with the distribution removed and keeps pyproject.toml).
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
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        pass
    try:
        return str(tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return UNKNOWN
