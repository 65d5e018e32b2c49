"""Notifications processes (`python -m services.notifications.main`) driven from a test: start, stop,
kill -9; events published to them; what they stored."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import nats as nats_client
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from athenaeum.loans.v1 import resources_pb2
from athenaeum.users.v1 import events_pb2 as users
from athenaeum.users.v1 import users_pb2
from services.notifications.data.tables import notifications as notifications_table
from services.support.launcher.components import REPO_ROOT
from services.support.launcher.processes import ManagedProcess, ProcessSpec, Supervisor
from services.support.launcher.readiness import service_health, wait_until
from services.support.runtime.wire import event_subject, timestamp


@dataclass
class Patron:
    name: str
    email: str
    phone: str = ""


@dataclass
class Notifications:
    """Processes of the service under test, the events fed to them, and what they stored."""

    supervisor: Supervisor
    environment: dict[str, str]
    engine: AsyncEngine
    nats_url: str
    free_ports: Iterator[int]
    processes: dict[str, ManagedProcess] = field(default_factory=dict)

    def start(self, name: str = "n1") -> ManagedProcess:
        port = next(self.free_ports)
        env = {**os.environ, **self.environment, "ATHENAEUM_PORT": str(port), "ATHENAEUM_INSTANCE_NAME": name,
               "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{REPO_ROOT / 'gen' / 'python'}"}  # fmt: skip
        spec = ProcessSpec(name=f"notifications-{name}-{uuid.uuid4().hex[:6]}", argv=[sys.executable, "-m",
                           "services.notifications.main"], env=env, cwd=REPO_ROOT)  # fmt: skip
        process = self.supervisor.start(spec)
        wait_until(lambda: service_health(f"127.0.0.1:{port}") == "SERVING", timeout=60,
                   what=spec.name, check_alive=process.check_alive)  # fmt: skip
        self.processes[name] = process
        return process

    def stop(self, name: str) -> None:
        self.processes.pop(name).stop()

    def kill(self, name: str) -> None:
        self.processes.pop(name).kill()

    async def publish(self, context: str, event: Any) -> None:
        client = await nats_client.connect(self.nats_url)
        try:
            js = client.jetstream()
            await js.publish(
                event_subject(context, event), event.SerializeToString(), headers={"Nats-Msg-Id": event.event_id}
            )
        finally:
            await client.close()

    async def publish_many(self, context: str, events: list[Any]) -> None:
        client = await nats_client.connect(self.nats_url)
        try:
            js = client.jetstream()
            for start in range(0, len(events), 256):
                chunk = events[start : start + 256]
                await asyncio.gather(*(js.publish(event_subject(context, e), e.SerializeToString(),
                                                  headers={"Nats-Msg-Id": e.event_id}) for e in chunk))  # fmt: skip
        finally:
            await client.close()

    async def register(self, *, phone: str = "", sms: bool = False, time_zone: str = "") -> Patron:
        patron = Patron(f"users/{uuid.uuid4()}", f"p-{uuid.uuid4().hex[:10]}@example.org", phone)
        user = users_pb2.User(
            name=patron.name, email=patron.email, phone=phone, display_name="Patron",
            status=users_pb2.USER_STATUS_ACTIVE,
            notification_preferences=users_pb2.NotificationPreferences(email_opt_in=True, sms_opt_in=sms),
            etag='W/"1"', time_zone=time_zone, card_number="29000000000001",
        )  # fmt: skip
        await self.publish(
            "users",
            users.UserRegistered(event_id=str(uuid.uuid4()), occur_time=timestamp(datetime.now(UTC)), user=user),
        )
        await self.eventually(lambda: self.count(kind="welcome", recipient=patron), lambda n: n >= 1, timeout=30)
        return patron

    async def count(self, *, kind: str, recipient: Patron, status: str | None = None) -> int:
        query = (
            sa.select(sa.func.count())
            .select_from(notifications_table)
            .where(
                notifications_table.c.kind == kind,
                notifications_table.c.recipient_id == uuid.UUID(recipient.name.split("/")[1]),
            )
        )
        if status:
            query = query.where(notifications_table.c.status == status)
        async with self.engine.connect() as connection:
            return int(await connection.scalar(query) or 0)

    async def rows(self, **conditions: Any) -> list[Any]:
        query = sa.select(notifications_table).where(*(notifications_table.c[k] == v for k, v in conditions.items()))
        async with self.engine.connect() as connection:
            return list((await connection.execute(query)).all())

    @staticmethod
    async def eventually(probe: Callable[[], Any], accept: Callable[[Any], bool], *, timeout: float = 20) -> Any:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while True:
            value = await probe() if asyncio.iscoroutinefunction(probe) else probe()
            if asyncio.iscoroutine(value):
                value = await value
            if accept(value) or time.monotonic() > deadline:
                return value
            await asyncio.sleep(0.1)


def loan_event(kind: type, patron: Any, *, loan: str, step: int = 0, due: datetime | None = None, **fields: Any) -> Any:
    if due is None:  # due in two days for a "due soon" (after its due time it is not sent), else a week ago
        due = datetime.now(UTC) + (timedelta(days=2) if kind.__name__ == "LoanDueSoon" else timedelta(days=-7))
    body = resources_pb2.Loan(
        name=loan, patron=patron.name, book_title="Dead Souls", barcode="31000000001", due_time=timestamp(due)
    )
    return kind(event_id=str(uuid.uuid4()), occur_time=timestamp(datetime.now(UTC)), loan=body, step=step, **fields)
