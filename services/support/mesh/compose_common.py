"""Building blocks shared by the compose builders (compose.py, compose_outside.py): the Athenaeum image,
healthchecks and the start-up conditions on them.

Their own module because every builder of compose services needs them, and compose.py, which assembles the
project from the others, cannot be imported by them.
"""

from __future__ import annotations

from typing import Any

from services.support.runtime import release


def image() -> str:
    """The Athenaeum image compose builds, tagged with the release version unless ATHENAEUM_VERSION says another."""
    return f"athenaeum:${{ATHENAEUM_VERSION:-{release.version()}}}"


def healthcheck(test: list[str], *, interval: str = "5s", retries: int = 30) -> dict[str, Any]:
    """A compose healthcheck running `test`, by default every 5 s, given 30 tries."""
    return {"test": test, "interval": interval, "timeout": "3s", "retries": retries, "start_period": "5s"}


def healthy(*names: str) -> dict[str, Any]:
    """A depends_on that waits until each of the named services is healthy."""
    return {name: {"condition": "service_healthy"} for name in names}


def athenaeum_image() -> dict[str, Any]:
    """A service on the Athenaeum image, built from the checkout when it is not there."""
    return {"image": image(), "build": {"context": "."}}
