"""Fine use cases: staff charges, payments and waivers (each with an audit entry), reading and listing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from services.loans.borrowing import SYSTEM, Actor
from services.loans.domain import check_patron_name, parse_name
from services.loans.fines import Fine, FineKind, FineStatus
from services.loans.handlers import Circulation, ensure_staff, keyset_cursor, patron_scope
from services.loans.persistence import Page
from services.loans.rules import parse_money
from services.support.runtime import pagination


@dataclass(frozen=True, slots=True)
class AssessFine:
    patron: str
    amount: str
    kind: FineKind = FineKind.OTHER
    description: str = ""
    loan: str = ""
    request_id: uuid.UUID | None = None
    actor: Actor = SYSTEM


async def assess_fine(cmd: AssessFine, c: Circulation) -> Fine:
    """A charge by hand (lost or damaged item, other fees)."""
    ensure_staff(cmd.actor, "charge fines")
    check_patron_name(cmd.patron, field_name="fine.patron")
    amount = parse_money(cmd.amount, field_name="fine.amount")
    assert amount is not None
    async with c.uow() as uow:
        if previous := await uow.requests.recall(cmd.request_id, "AssessFine"):
            return await uow.fines.get(parse_name(previous, "fines"))
        if cmd.loan:
            await uow.loans.get(parse_name(cmd.loan, "loans", field_name="fine.loan"))  # NotFound when unknown
        fine = Fine.assess(
            patron=cmd.patron,
            kind=cmd.kind,
            amount=amount,
            currency=c.currency,
            now=c.clock.now(),
            actor=cmd.actor.user or "system",
            loan=cmd.loan,
            description=cmd.description,
        )
        await uow.fines.add(fine)
        await uow.requests.remember(cmd.request_id, "AssessFine", fine.name)
        await uow.commit()
    return fine


async def get_fine(fine_id: uuid.UUID, actor: Actor, c: Circulation) -> Fine:
    async with c.uow() as uow:
        fine = await uow.fines.get(fine_id)
    actor.ensure_may_act_for(fine.patron, "see the fines")
    return fine


async def pay_fine(
    fine_id: uuid.UUID, amount: str, method: str, request_id: uuid.UUID | None, actor: Actor, c: Circulation
) -> Fine:
    """Record a payment (at most what is owed); PAID once nothing is left."""
    ensure_staff(actor, "take payments")
    paid = parse_money(amount, field_name="amount")
    assert paid is not None
    async with c.uow() as uow:
        if await uow.requests.recall(request_id, "PayFine"):
            return await uow.fines.get(fine_id)
        fine = await uow.fines.get(fine_id)
        fine.pay(paid, now=c.clock.now(), actor=actor.user or "system", method=method)
        await uow.fines.save(fine)
        await uow.requests.remember(request_id, "PayFine", fine.name)
        await uow.commit()
    return fine


async def waive_fine(
    fine_id: uuid.UUID, reason: str, request_id: uuid.UUID | None, actor: Actor, c: Circulation
) -> Fine:
    """Forgive what is left, with the reason on the audit trail."""
    ensure_staff(actor, "waive fines")
    async with c.uow() as uow:
        if await uow.requests.recall(request_id, "WaiveFine"):
            return await uow.fines.get(fine_id)
        fine = await uow.fines.get(fine_id)
        fine.waive(reason, now=c.clock.now(), actor=actor.user or "system")
        await uow.fines.save(fine)
        await uow.requests.remember(request_id, "WaiveFine", fine.name)
        await uow.commit()
    return fine


async def list_fines(
    *, parent: str, status: FineStatus | None, page_size: int, page_token: str, actor: Actor, c: Circulation
) -> tuple[Page[Fine], str, Decimal]:
    """Newest first; returns the page, the next token and the total still owed over all matching fines."""
    patron = patron_scope(parent, actor, "fines")
    size = pagination.page_size(page_size)
    fingerprint = pagination.fingerprint("ListFines", patron, status.value if status else "")
    cursor = pagination.decode_token(page_token, fingerprint)
    after = keyset_cursor(cursor) if cursor else None
    async with c.uow() as uow:
        page, outstanding = await uow.fines.page(patron=patron, status=status, after=after, limit=size)
    token = ""
    if page.has_more and page.items:
        last = page.items[-1]
        token = pagination.encode_token([last.created_at.isoformat(), str(last.id)], fingerprint)
    return page, token, outstanding
