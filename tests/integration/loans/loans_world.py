"""What the loans integration tests share: the World (use cases over a real database, fake peers, a clock
the test moves) and the actors who call them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import sqlalchemy as sa
from loans_fakes import FakeCatalog, FakeUsers
from sqlalchemy.ext.asyncio import AsyncEngine

from services.loans.borrowing import Actor, Role
from services.loans.handlers import Circulation
from services.loans.tables import circulation_rules
from services.support.runtime.clock import FixedClock
from services.support.runtime.outbox import OUTBOX

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DESK = Actor(user="users/librarian", role=Role.LIBRARIAN)
ADMIN = Actor(user="users/admin", role=Role.ADMIN)


@dataclass
class World:
    """A loans service's use cases over a real database, with fake peers and a clock the test moves."""

    circulation: Circulation
    catalog: FakeCatalog
    users: FakeUsers
    clock: FixedClock
    engine: AsyncEngine

    def with_(self, **changes: object) -> Circulation:
        return replace(self.circulation, **changes)  # type: ignore[arg-type]

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
