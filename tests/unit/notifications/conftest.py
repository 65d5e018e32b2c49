"""The in-memory ports every notifications use-case test starts from."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from services.notifications.app.notifying import Rules
from services.notifications.data.rendering import JinjaRenderer
from services.notifications.data.trial_render import inspected_in_process
from services.notifications.domain.delivery import RetryPolicy, SmsPolicy
from services.support.runtime.clock import FixedClock

from .fake_peers import FakeCatalog
from .fakes import FakeNotificationsDatabase

NOON = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)  # outside the quiet hours of UTC and Moscow
RULES = Rules(
    retry=RetryPolicy(max_attempts=3, base=timedelta(seconds=2), cap=timedelta(minutes=1)),
    sms=SmsPolicy(max_per_hour=2, quiet_start=time(22, 0), quiet_end=time(8, 0)),
    library_name="Test Library",
    hold_expiry_notice=timedelta(hours=24),
)


@pytest.fixture
def db() -> FakeNotificationsDatabase:
    return FakeNotificationsDatabase()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOON)


@pytest.fixture
def renderer() -> JinjaRenderer:
    return JinjaRenderer(inspection=inspected_in_process)  # its own process: tests/integration


@pytest.fixture
def catalog() -> FakeCatalog:
    return FakeCatalog({"books/b1": "The Master and Margarita"})
