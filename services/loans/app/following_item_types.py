"""The circulation rules follow the catalog's item types (domain/rule_keys.py): a type renamed re-keys its rules,
a type deleted takes its rules with it. Each change of the catalog is followed in one transaction, once: the
catalog's event id is kept in the request ledger, so a redelivered event changes nothing (and a rename would
find no rule left to re-key anyway)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.rule_keys import (
    RulesBehindCatalog,
    RulesFollowed,
    follow_deletion,
    follow_rename,
    unlisted_keys,
)
from services.loans.domain.rules import CirculationRule
from services.support.runtime.clock import Clock
from services.support.runtime.errors import DependencyUnavailable

log = logging.getLogger("athenaeum.loans.item_types")


RULES_FOLLOW_WAIT_SECONDS = 2.0
"""How long an issue waits for the rules to follow a rename of its copy's type (they take milliseconds)."""
RULES_FOLLOW_POLL_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class ItemTypeRenamed:
    event_id: uuid.UUID
    old_code: str
    new_code: str
    renamed_at: datetime | None = None
    """When the catalog made it (the event's time): issues of the type's copies wait for its record."""


@dataclass(frozen=True, slots=True)
class ItemTypeDeleted:
    event_id: uuid.UUID
    code: str
    deleted_at: datetime


async def follow_item_type_rename(cmd: ItemTypeRenamed, *, uow: LoansUnitOfWork, clock: Clock) -> RulesFollowed:
    """Re-key the rules of the renamed type; where a category had rules for both codes, keep the new code's
    (the conflict logged, and noted on the retired rule's event for the audit trail)."""
    async with uow:
        if await uow.requests.recall(cmd.event_id, "FollowItemTypeRename"):
            return RulesFollowed()
        rules = await uow.rules.all()
        followed = follow_rename(rules, cmd.old_code, cmd.new_code, now=clock.now())
        await _write(followed, uow)
        if cmd.renamed_at is not None:  # in the rules' transaction: an issue that sees it sees them re-keyed
            await uow.rules.follow_rename(cmd.new_code, renamed_at=cmd.renamed_at)
        await uow.requests.remember(cmd.event_id, "FollowItemTypeRename", f"itemTypes/{cmd.new_code}")
        await uow.commit()
    for conflict in followed.conflicts:
        log.warning(
            "item type %s renamed %s: the rule for %s is deleted, the one for the new code kept",
            cmd.old_code,
            cmd.new_code,
            conflict,
        )
    if followed.rekeyed:
        log.info("item type %s renamed %s: %d rule(s) re-keyed", cmd.old_code, cmd.new_code, len(followed.rekeyed))
    return followed


async def follow_item_type_deletion(
    cmd: ItemTypeDeleted, *, uow: LoansUnitOfWork, clock: Clock, catalog: Catalog
) -> RulesFollowed:
    """Delete the rules of the deleted type: all of them unless the catalog lists the code again (then those
    changed since the deletion are kept). The rules are read before the catalog is asked: a rule made for a type
    created again after the answer is not among them, and one edited after the read fails the versioned delete
    (the event is taken again)."""
    async with uow:
        if await uow.requests.recall(cmd.event_id, "FollowItemTypeDeletion"):
            return RulesFollowed()
        rules = await uow.rules.all()
        listed_again = await _listed(cmd.code, catalog)
        followed = follow_deletion(
            rules, cmd.code, deleted_at=cmd.deleted_at, now=clock.now(), listed_again=listed_again
        )
        await _write(followed, uow)
        await uow.requests.remember(cmd.event_id, "FollowItemTypeDeletion", f"itemTypes/{cmd.code}")
        await uow.commit()
    if followed.retired:
        names = ", ".join(_key(rule) for rule in followed.retired)
        log.info("item type %s deleted from the catalog: its rule(s) %s deleted", cmd.code, names)
    return followed


async def rules_following(
    item_type: str, renamed_at: datetime | None, *, uow: LoansUnitOfWork, catalog: Catalog
) -> None:
    """A copy whose item type took its code in a rename at `renamed_at` waits (briefly, outside any transaction)
    for the rules to follow that rename, which they do off the catalog's event within moments: matched before,
    its new code would find none of the type's rules and lend it by the "*" default for the whole loan. Still
    unrecorded after the wait, the rename may have been followed by a process that records none
    (`_followed_unrecorded`); else RulesBehindCatalog (the issue puts the copy back; a retry lends it)."""
    if renamed_at is None:
        return
    deadline = time.monotonic() + RULES_FOLLOW_WAIT_SECONDS
    while True:
        try:
            async with uow.reading():
                await uow.rules.in_force(item_type=item_type, renamed_at=renamed_at)
            return
        except RulesBehindCatalog:
            if time.monotonic() >= deadline:
                break
        await asyncio.sleep(RULES_FOLLOW_POLL_SECONDS)
    await _followed_unrecorded(item_type, renamed_at, uow=uow, catalog=catalog)


async def _followed_unrecorded(item_type: str, renamed_at: datetime, *, uow: LoansUnitOfWork, catalog: Catalog) -> None:
    """A loans release from before renames were recorded (loans migration 0023), still running in a rolling
    upgrade, re-keys the rules on the rename's event and takes it: no record ever comes. Rules keyed only by codes
    the catalog lists are behind no rename (one not followed leaves them keyed by the old code, listed no more):
    the rename is recorded as followed, as its event would have, and the copy lent. A rule keyed by an unlisted
    code, or a catalog not answering: RulesBehindCatalog, as before."""
    try:
        listed = await catalog.item_type_codes()  # asked before the rules are read: a peer call, no transaction
    except DependencyUnavailable:
        raise RulesBehindCatalog(item_type) from None
    async with uow:
        if unlisted := unlisted_keys(await uow.rules.all(), listed):
            log.warning(
                "item type %s renamed at %s: the rules are still keyed by %s, which the catalog does not list "
                "(a rename on its way, or a rule for a type gone)",
                item_type,
                renamed_at.isoformat(),
                ", ".join(sorted(unlisted)),
            )
            raise RulesBehindCatalog(item_type)
        await uow.rules.follow_rename(item_type, renamed_at=renamed_at)
        await uow.commit()
    log.warning(
        "item type %s renamed at %s: no record that the rules followed it (an older loans process took the event?); "
        "they name only listed types, so it is recorded as followed",
        item_type,
        renamed_at.isoformat(),
    )


async def _listed(code: str, catalog: Catalog) -> bool | None:
    try:
        return await catalog.has_item_type(code)
    except DependencyUnavailable:  # not left undone for it: the deletion's time alone decides, as it did
        log.warning("item type %s deleted: the catalog could not say whether it is listed again", code)
        return None


async def _write(followed: RulesFollowed, uow: LoansUnitOfWork) -> None:
    # The retired rules first: a re-keyed rule then takes no key still held (the table's unique key holds at
    # every statement).
    for rule in followed.retired:
        await uow.rules.delete(rule)
    for rule in followed.rekeyed:
        await uow.rules.save(rule)


def _key(rule: CirculationRule) -> str:
    return f"{rule.terms.patron_category}/{rule.terms.item_type}"
