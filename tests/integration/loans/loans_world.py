"""What the loans integration tests share: the World (the use cases over a real database, fake peers, a
clock the test moves) and the actors who call them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from unit.loans.desk import ADMIN, CURRENCY, DESK, Crash, Desk, crash

from services.loans.data.tables import circulation_rules
from services.support.runtime.outbox import OUTBOX

__all__ = ["ADMIN", "CURRENCY", "DESK", "START", "Crash", "World", "crash"]
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass(kw_only=True)
class World(Desk):
    """The Desk over Postgres (a SqlLoansUnitOfWork per call), and a look at the database behind it."""

    engine: AsyncEngine

    async def subjects(self) -> list[str]:
        """Outbox subjects in commit order."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(sa.select(OUTBOX.c.subject).order_by(OUTBOX.c.seq))
            return [row.subject.split(".")[2] for row in rows]

    async def set_default_rule(self, **terms: object) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                circulation_rules.update()
                .where(circulation_rules.c.patron_category == "*", circulation_rules.c.item_type == "*")
                .values(**terms)
            )

    async def scalar(self, statement: sa.Executable) -> object:
        async with self.engine.connect() as connection:
            return (await connection.execute(statement)).scalar()
