"""Optimistic concurrency for aggregates: a version, its weak etag, and the check a client's etag must pass.

Pure: domain modules mix it in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.support.runtime.errors import Conflict


class Versioned:
    """Mixin for an aggregate with a `version` (bumped by every change) and a resource `name`."""

    __slots__ = ()
    version: int

    if TYPE_CHECKING:  # each aggregate defines its name as a property (a plain `name: str` would forbid that)

        @property
        def name(self) -> str: ...

    @property
    def etag(self) -> str:
        return f'W/"{self.version}"'

    def check_etag(self, etag: str) -> None:
        """An etag the client sent must be the current one; none means 'whatever is current'."""
        if etag and etag != self.etag:
            raise Conflict(f"{self.name} changed since it was read; read it again", reason="STALE_ETAG")
