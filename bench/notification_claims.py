"""What a dispatcher's claim of due notices (`delivering.claim_due`) costs the notifications process: through
the SQLAlchemy session that joins the unit of work's transaction (as until 2026-12-07) against the driver's
statements (DriverStatement, as now). Two claims: an empty one (what every dispatcher's poll costs when nothing
is due: each channel polls once a second) and one that takes eight due notices (leased for no time, so the next
claim takes them again). The unit of work is the service's (`on_driver`); the session variant differs only in
its notifications repository's way to the driver (reads alone, so the claims run on the session). Reported: CPU
microseconds of this process and of Postgres (every backend), and wall microseconds, per claim, on uvloop,
alternating the variants twice. Writes bench/results/notification_claims-<UTC time>.md. Run by hand:

    python bench/notification_claims.py
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))
from in_process import Runs, Work, alternated, machine, on_local_postgres, result_rows, write_report
from loadtools import shown

from services.notifications.api import events
from services.notifications.app import delivering
from services.notifications.app.notifying import Rules
from services.notifications.data.notifications import SqlNotificationRepository
from services.notifications.data.template_seeds import BUILTIN
from services.notifications.data.templates import TemplateCache
from services.notifications.data.unit_of_work import SqlNotificationsUnitOfWork
from services.notifications.domain.delivery import RetryPolicy, SmsPolicy
from services.notifications.domain.kinds import Channel, Kind
from services.notifications.domain.notifications import Content, Notification
from services.support.runtime.clock import SystemClock
from services.support.runtime.engine import session_factory
from services.support.runtime.migrations import upgrade_to_head

RULES = Rules(sms=SmsPolicy(quiet_start=None, quiet_end=None))
CLAIMED = 8


class ThroughTheSession(SqlNotificationsUnitOfWork):
    """The service's unit of work with its notifications' claims on the joining session, as before."""

    def _open(self, session: object) -> None:
        super()._open(session)  # type: ignore[arg-type]
        driver = self.repository_driver
        self.notifications = SqlNotificationRepository(session, driver=driver.reads() if driver else None)  # type: ignore[arg-type]


def _notice(now: datetime) -> Notification:
    return Notification.queue(
        recipient_id=uuid.uuid4(), channel=Channel.EMAIL, address="reader@example.org", kind=Kind.HOLD_READY,
        content=Content("Ready", "Your book", "", "hold_ready_email_en", 1, "en"), params={"title": "Dune"},
        now=now, not_before=now, policy=RetryPolicy(), source_event_id=uuid.uuid4(), event_at=now,
    )  # fmt: skip


async def run(url: str, postmaster: int, count: int) -> Runs:
    await _migrate(url)
    engine = create_async_engine(url, pool_size=4)
    sessions, cache = session_factory(engine), TemplateCache(BUILTIN)
    made = {
        kind: lambda kind=kind: kind(sessions, encode=events.encode, templates=cache, on_driver=True)
        for kind in (ThroughTheSession, SqlNotificationsUnitOfWork)
    }
    async with made[SqlNotificationsUnitOfWork]() as work:
        await work.notifications.add_many([_notice(datetime.now(UTC) - timedelta(minutes=1)) for _ in range(CLAIMED)])
        await work.commit()
    clock = SystemClock()

    def claim(kind: type, channel: Channel, expected: int) -> Work:
        command = delivering.ClaimDue(channel, 16, "bench", timedelta(0))  # a lease of none: taken again next time

        async def once() -> None:
            claimed = await delivering.claim_due(command, uow=made[kind](), clock=clock, rules=RULES)
            assert len(claimed) == expected, len(claimed)

        return once

    variants = {
        "an empty claim (SMS: nothing due), through the session": claim(ThroughTheSession, Channel.SMS, 0),
        "an empty claim (SMS: nothing due), on the driver": claim(SqlNotificationsUnitOfWork, Channel.SMS, 0),
        f"a claim of {CLAIMED} due emails, through the session": claim(ThroughTheSession, Channel.EMAIL, CLAIMED),
        f"a claim of {CLAIMED} due emails, on the driver": claim(SqlNotificationsUnitOfWork, Channel.EMAIL, CLAIMED),
    }
    try:
        return await alternated(variants, count, postmaster)
    finally:
        await engine.dispose()


async def _migrate(url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, "notifications", url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=2000, help="claims per variant and run (default 2000)")
    args = parser.parse_args()
    started = datetime.now(UTC)
    results = on_local_postgres("notification_claims", partial(run, count=args.count))
    text = f"""# A dispatcher's claim of due notices — {started:%Y-%m-%d %H:%M} UTC

{(__doc__ or "").split("Run by hand")[0].strip()}

## Machine
{machine()}

## Results ({args.count} claims per variant and run, each variant run twice, alternated)
| claim | CPU us, this process | CPU us, Postgres | wall us |
|---|---:|---:|---:|
{result_rows(results)}

```
python bench/notification_claims.py --count {args.count}
```
"""
    print(f"report: {shown(write_report('notification_claims', started, text))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
