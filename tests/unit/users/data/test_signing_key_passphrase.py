"""A passphrase that opens none of the stored signing keys: the users service is not ready, callers are told
"unavailable" (a server fault), and the operator gets one log line naming the setting."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest
from google.rpc import code_pb2

from services.support.runtime.status import domain_status
from services.users.data.signing_keys import KeysUnavailable, SqlSigningKeys
from services.users.domain.signing_keys import SigningKey

from ..conftest import NOW

STORED_WITH = b"the-passphrase-of-the-keys"


class StoredKeys(SqlSigningKeys):
    """The key store with its rows in memory (the SQL is the integration tests')."""

    def __init__(self, passphrase: bytes, *keys: SigningKey) -> None:
        super().__init__(engine=None, passphrase=passphrase)  # type: ignore[arg-type]
        self.rows = [
            SimpleNamespace(
                kid=key.kid,
                private_key_pem=key.encrypted_pem(STORED_WITH),
                created_at=key.created_at,
                activates_at=key.activates_at,
            )
            for key in keys
        ]
        self.loads = 0

    async def _rows(self) -> list[Any]:
        self.loads += 1
        return self.rows


async def test_a_passphrase_that_opens_no_key_makes_the_service_not_ready(caplog: pytest.LogCaptureFixture) -> None:
    keys = StoredKeys(b"another-passphrase-123", SigningKey.generate(now=NOW), SigningKey.generate(now=NOW))
    with caplog.at_level(logging.ERROR):
        assert await keys.opens() is False
        with pytest.raises(KeysUnavailable) as refused:
            await keys.keyring()
    status = domain_status(refused.value)
    assert status.code == code_pb2.UNAVAILABLE  # counted by the error-rate alert, unlike a 400
    assert "PASSPHRASE" not in status.message  # the setting is the operator's business, not the caller's
    (line,) = caplog.messages  # one line, not one per key per call
    assert "ATHENAEUM_SIGNING_KEY_PASSPHRASE" in line and "another-passphrase" not in line
    assert keys.loads == 1, "looked at again only after the reload interval"


async def test_the_right_passphrase_is_ready() -> None:
    assert await StoredKeys(STORED_WITH, SigningKey.generate(now=NOW)).opens() is True
    assert await StoredKeys(b"no-keys-yet-12345").opens() is True  # the first key is made at start
