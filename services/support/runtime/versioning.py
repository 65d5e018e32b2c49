"""Optimistic concurrency for aggregates: a version, its weak etag, and the check a client's etag must pass.

Pure: domain modules mix it in.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from services.support.runtime.errors import Conflict

_WEAK_ETAG = re.compile(r'W/"(\d{1,18})"')


def version_of(etag: str) -> int:
    """The version a weak etag of `Versioned.etag`'s form carries; 0 for any other (none, or not ours)."""
    found = _WEAK_ETAG.fullmatch(etag)
    return int(found.group(1)) if found else 0


class Versioned:
    """Mixin for an aggregate with a `version` (bumped by every change) and a resource `name`."""

    __slots__ = ()
    version: int

    if TYPE_CHECKING:  # what the mixin reads; an aggregate may derive it (a property) or store it (a field)

        @property
        def name(self) -> str: ...

    @property
    def etag(self) -> str:
        return f'W/"{self.version}"'

    def check_etag(self, etag: str) -> None:
        """An etag the client sent must be the current one; none means 'whatever is current'."""
        if etag and etag != self.etag:
            raise Conflict(f"{self.name} changed since it was read; read it again", reason="STALE_ETAG")
