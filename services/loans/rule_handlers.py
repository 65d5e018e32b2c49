"""Circulation rules matrix use cases: librarians read it, admins edit it; edits apply to new loans."""

from __future__ import annotations

import uuid
from dataclasses import replace

from services.loans.borrowing import Actor, Role
from services.loans.domain import parse_name
from services.loans.handlers import Circulation
from services.loans.rules import CirculationRule, RuleTerms, ordered
from services.support.runtime import pagination
from services.support.runtime.errors import InvalidArgument, PermissionDenied

WRITABLE = tuple(name for name in RuleTerms.__dataclass_fields__)


def ensure_admin(actor: Actor) -> None:
    if actor.role not in (Role.ADMIN, Role.SYSTEM):
        raise PermissionDenied("only an admin may change circulation rules", reason="ADMIN_ONLY")


async def create_rule(terms: RuleTerms, request_id: uuid.UUID | None, actor: Actor, c: Circulation) -> CirculationRule:
    """Add a row to the matrix (ALREADY_EXISTS for a category/item type that has one)."""
    ensure_admin(actor)
    async with c.uow() as uow:
        if previous := await uow.requests.recall(request_id, "CreateCirculationRule"):
            return await uow.rules.get(parse_name(previous, "circulationRules"))
        rule = CirculationRule.create(terms, now=c.clock.now())
        await uow.rules.add(rule)
        await uow.requests.remember(request_id, "CreateCirculationRule", rule.name)
        await uow.commit()
    return rule


async def get_rule(rule_id: uuid.UUID, c: Circulation) -> CirculationRule:
    async with c.uow() as uow:
        return await uow.rules.get(rule_id)


async def list_rules(
    *, patron_category: str, item_type: str, page_size: int, page_token: str, c: Circulation
) -> tuple[list[CirculationRule], str, int]:
    """Most specific first; with a category and/or item type, only the rows that would apply to them."""
    category, kind = patron_category.strip().upper(), item_type.strip().upper()
    size = pagination.page_size(page_size)
    fingerprint = pagination.fingerprint("ListCirculationRules", category, kind)
    cursor = pagination.decode_token(page_token, fingerprint)
    try:
        offset = int(cursor[0]) if cursor else 0
    except (ValueError, IndexError, TypeError):
        raise InvalidArgument.field("page_token", "is not a token this service issued") from None
    async with c.uow() as uow:
        rules = ordered(await uow.rules.all())
    matching = [r for r in rules if r.terms.covers(category or r.terms.patron_category, kind or r.terms.item_type)]
    page = matching[offset : offset + size]
    token = pagination.encode_token([offset + size], fingerprint) if offset + size < len(matching) else ""
    return page, token, len(matching)


async def update_rule(
    rule_id: uuid.UUID,
    changes: RuleTerms,
    mask: list[str],
    *,
    etag: str,
    request_id: uuid.UUID | None,
    actor: Actor,
    c: Circulation,
) -> CirculationRule:
    """Change the masked fields ("*" or an empty mask: every writable field)."""
    ensure_admin(actor)
    paths = WRITABLE if not mask or mask == ["*"] else mask
    if unknown := [path for path in paths if path not in WRITABLE]:
        raise InvalidArgument.field("update_mask", f"unknown or read-only field(s): {', '.join(unknown)}")
    async with c.uow() as uow:
        if previous := await uow.requests.recall(request_id, "UpdateCirculationRule"):
            return await uow.rules.get(parse_name(previous, "circulationRules"))
        rule = await uow.rules.get(rule_id)
        rule.update(replace(rule.terms, **{p: getattr(changes, p) for p in paths}), now=c.clock.now(), etag=etag)
        await uow.rules.save(rule)
        await uow.requests.remember(request_id, "UpdateCirculationRule", rule.name)
        await uow.commit()
    return rule


async def delete_rule(
    rule_id: uuid.UUID, *, etag: str, request_id: uuid.UUID | None, actor: Actor, c: Circulation
) -> None:
    """Remove a row; the */* default row stays."""
    ensure_admin(actor)
    async with c.uow() as uow:
        if await uow.requests.recall(request_id, "DeleteCirculationRule"):
            return
        rule = await uow.rules.get(rule_id)
        rule.delete(now=c.clock.now(), etag=etag)
        await uow.rules.delete(rule)
        await uow.requests.remember(request_id, "DeleteCirculationRule", rule.name)
        await uow.commit()
