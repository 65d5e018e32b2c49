"""Steps of the sagas on peers (the catalog's check-out, check-in, reserve, release)."""

from __future__ import annotations

import uuid


def step_id(resource_id: uuid.UUID, step: str) -> str:
    """The request_id of one saga step on a peer: the same on every retry, so the peer acts once."""
    return str(uuid.uuid5(resource_id, step))
