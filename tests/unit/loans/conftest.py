"""The in-memory loans database and peers every use-case unit test starts from."""

from __future__ import annotations

import pytest

from services.support.runtime.clock import FixedClock

from .desk import NOW, Desk
from .fake_peers import FakeCatalog, FakeUsers
from .fakes import FakeLoansDatabase


@pytest.fixture
def db() -> FakeLoansDatabase:
    return FakeLoansDatabase.migrated()


@pytest.fixture
def desk(db: FakeLoansDatabase) -> Desk:
    return Desk(new_uow=db.unit_of_work, clock=FixedClock(NOW), users=FakeUsers(), catalog=FakeCatalog())
