"""Circulation rules matrix use cases: librarians read it, admins edit it; edits apply to new loans."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from services.loans.app.pages import number_after
from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.actors import SYSTEM, Actor
from services.loans.domain.codes import WILDCARD, UnknownItemType, may_be_listed_before_the_rule, spelt_code
from services.loans.domain.rules import RULE, CirculationRule, RuleTerms, ordered
from services.support.runtime.clock import Clock
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.pagination import encode_token, fingerprint, page_size
from services.support.runtime.paging import Page

WRITABLE = tuple(name for name in RuleTerms.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class CreateCirculationRule:
    terms: RuleTerms
    request_id: uuid.UUID | None = None
    actor: Actor = SYSTEM


async def create_circulation_rule(
    cmd: CreateCirculationRule, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog
) -> CirculationRule:
    """Add a row to the matrix (ALREADY_EXISTS for a category/item type that has one; UNKNOWN_ITEM_TYPE for an
    item type the catalog's list does not have; UNAVAILABLE while the catalog cannot say)."""
    cmd.actor.ensure_admin()
    listed = await _listed_before_the_rule(spelt_code(cmd.terms.item_type), catalog)
    # A malformed code is refused before the catalog is asked (unless it may be one kept from before the rule).
    terms = cmd.terms.validated(now=clock.now(), listed_item_type=listed)
    if not listed:
        await _ensure_known(terms.item_type, catalog)
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, "CreateCirculationRule"):
            return await uow.rules.get(RULE.parse_id(previous))
        rule = CirculationRule.create(cmd.terms, now=clock.now(), listed_item_type=listed)
        await uow.rules.add(rule)
        await uow.requests.remember(cmd.request_id, "CreateCirculationRule", rule.name)
        await uow.commit()
    return rule


@dataclass(frozen=True, slots=True)
class GetCirculationRule:
    rule_id: uuid.UUID


async def get_circulation_rule(cmd: GetCirculationRule, *, uow: LoansUnitOfWork) -> CirculationRule:
    """One row of the matrix."""
    async with uow:
        return await uow.rules.get(cmd.rule_id)


@dataclass(frozen=True, slots=True)
class ListCirculationRules:
    patron_category: str = ""
    item_type: str = ""
    page_size: int = 0
    page_token: str = ""


async def list_circulation_rules(cmd: ListCirculationRules, *, uow: LoansUnitOfWork) -> Page[CirculationRule]:
    """Most specific first; with a category and/or item type, only the rows that would apply to them."""
    category, kind = spelt_code(cmd.patron_category), spelt_code(cmd.item_type)
    size = page_size(cmd.page_size)
    query = fingerprint("ListCirculationRules", category, kind)
    offset = number_after(cmd.page_token, query) or 0
    async with uow:
        rules = ordered(await uow.rules.all())
    matching = [r for r in rules if r.terms.covers(category or r.terms.patron_category, kind or r.terms.item_type)]
    token = encode_token([offset + size], query) if offset + size < len(matching) else ""
    return Page(matching[offset : offset + size], token, len(matching))


@dataclass(frozen=True, slots=True)
class UpdateCirculationRule:
    rule_id: uuid.UUID
    changes: RuleTerms
    update_mask: tuple[str, ...] = ()
    """The fields of `changes` to apply; "*" or none: every writable field."""
    etag: str = ""
    request_id: uuid.UUID | None = None
    actor: Actor = SYSTEM


async def update_circulation_rule(
    cmd: UpdateCirculationRule, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog
) -> CirculationRule:
    """Change the masked fields; applies to loans issued afterwards. A new item type must be in the catalog's
    list (UNKNOWN_ITEM_TYPE; UNAVAILABLE while the catalog cannot say); one kept as it is is not asked about."""
    cmd.actor.ensure_admin()
    paths = WRITABLE if not cmd.update_mask or cmd.update_mask == ("*",) else cmd.update_mask
    if unknown := [path for path in paths if path not in WRITABLE]:
        raise InvalidArgument.field("update_mask", f"unknown or read-only field(s): {', '.join(unknown)}")
    listed = ""
    if "item_type" in paths:
        listed = await _ensure_new_type_known(cmd, uow=uow, clock=clock, catalog=catalog)
    async with uow:
        if previous := await uow.requests.recall(cmd.request_id, "UpdateCirculationRule"):
            return await uow.rules.get(RULE.parse_id(previous))
        rule = await uow.rules.get(cmd.rule_id)
        changed = replace(rule.terms, **{p: getattr(cmd.changes, p) for p in paths})
        rule.update(changed, now=clock.now(), etag=cmd.etag, listed_item_type=listed)
        await uow.rules.save(rule)
        await uow.requests.remember(cmd.request_id, "UpdateCirculationRule", rule.name)
        await uow.commit()
    return rule


@dataclass(frozen=True, slots=True)
class DeleteCirculationRule:
    rule_id: uuid.UUID
    etag: str = ""
    request_id: uuid.UUID | None = None
    actor: Actor = SYSTEM


async def delete_circulation_rule(cmd: DeleteCirculationRule, *, uow: LoansUnitOfWork, clock: Clock) -> None:
    """Remove a row; the */* default row stays."""
    cmd.actor.ensure_admin()
    async with uow:
        if await uow.requests.recall(cmd.request_id, "DeleteCirculationRule"):
            return
        rule = await uow.rules.get(cmd.rule_id)
        rule.delete(now=clock.now(), etag=cmd.etag)
        await uow.rules.delete(rule)
        await uow.requests.remember(cmd.request_id, "DeleteCirculationRule", rule.name)
        await uow.commit()


async def _ensure_known(item_type: str, catalog: Catalog) -> None:
    """UnknownItemType unless "*" or in the catalog's list (asked outside any transaction: a peer call)."""
    if item_type != WILDCARD and not await catalog.has_item_type(item_type):
        raise UnknownItemType(item_type)


async def _listed_before_the_rule(item_type: str, catalog: Catalog) -> str:
    """`item_type` when it is a code from before the rule that the catalog's list has ("LARGE PRINT", seeded
    from old copies, which copies still have); else "" (it is then checked as any other)."""
    if may_be_listed_before_the_rule(item_type) and await catalog.has_item_type(item_type):
        return item_type
    return ""


async def _ensure_new_type_known(
    cmd: UpdateCirculationRule, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog
) -> str:
    """The catalog is asked about the item type an update sets only when it differs from the stored one: a rule
    stored before item types were a list keeps its type, and its other terms stay editable. Returns the new type
    when it is a code from before the rule that the catalog lists (else "")."""
    async with uow.reading():
        current = (await uow.rules.get(cmd.rule_id)).terms
    item_type = spelt_code(cmd.changes.item_type)
    if item_type == current.item_type:
        return ""
    if listed := await _listed_before_the_rule(item_type, catalog):
        return listed
    # The code's own form first (an etag or request check may still refuse the update afterwards).
    replace(current, item_type=item_type).validated(now=clock.now(), earlier=current)
    await _ensure_known(item_type, catalog)
    return ""
