"""The rules matrix with fakes: admins edit it (masks, etags, the default row), librarians read it."""

from __future__ import annotations

import uuid

import pytest

from services.loans.app.rule_matrix import (
    CreateCirculationRule,
    DeleteCirculationRule,
    GetCirculationRule,
    ListCirculationRules,
    UpdateCirculationRule,
    create_circulation_rule,
    delete_circulation_rule,
    get_circulation_rule,
    list_circulation_rules,
    update_circulation_rule,
)
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.errors import (
    AlreadyExists,
    Conflict,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)

from ..desk import ADMIN, DESK, Desk
from ..fake_rules_and_fines import FakeRuleRepository
from ..fakes import FakeLoansDatabase


async def create(desk: Desk, terms: RuleTerms, request_id: uuid.UUID | None = None) -> CirculationRule:
    command = CreateCirculationRule(terms, request_id, ADMIN)
    return await create_circulation_rule(command, uow=desk.uow(), clock=desk.clock, catalog=desk.catalog)


async def update(desk: Desk, command: UpdateCirculationRule) -> CirculationRule:
    return await update_circulation_rule(command, uow=desk.uow(), clock=desk.clock, catalog=desk.catalog)


async def test_an_admin_adds_a_row_once_per_key_and_request(db: FakeLoansDatabase, desk: Desk) -> None:
    request_id = uuid.uuid4()
    rule = await create(desk, RuleTerms(" child ", "dvd", loan_period_days=3), request_id)
    assert (rule.terms.patron_category, rule.terms.item_type) == ("CHILD", "DVD")
    assert (await create(desk, RuleTerms("CHILD", "DVD"), request_id)).id == rule.id
    with pytest.raises(AlreadyExists) as taken:
        await create(desk, RuleTerms("CHILD", "DVD"))
    assert taken.value.reason == "RULE_EXISTS"
    with pytest.raises(PermissionDenied):
        command = CreateCirculationRule(RuleTerms("ADULT", "DVD"), actor=DESK)
        await create_circulation_rule(command, uow=desk.uow(), clock=desk.clock, catalog=desk.catalog)
    assert len(db.rules) == 2 and db.event_types() == ["CirculationRuleChanged"]


async def test_an_update_changes_the_masked_fields_of_the_current_version(desk: Desk) -> None:
    rule = await create(desk, RuleTerms("CHILD", "DVD", loan_period_days=3, max_loans=2))
    changes = RuleTerms("", "", loan_period_days=5, max_loans=9)
    updated = await update(desk, UpdateCirculationRule(rule.id, changes, ("loan_period_days",), etag=rule.etag))
    assert (updated.terms.loan_period_days, updated.terms.max_loans, updated.terms.item_type) == (5, 2, "DVD")
    with pytest.raises(Conflict) as stale:
        await update(desk, UpdateCirculationRule(rule.id, changes, ("max_loans",), etag=rule.etag))
    assert stale.value.reason == "STALE_ETAG"
    with pytest.raises(InvalidArgument) as unknown:
        await update(desk, UpdateCirculationRule(rule.id, changes, ("version",)))
    assert unknown.value.violations[0].field == "update_mask"
    fetched = await get_circulation_rule(GetCirculationRule(rule.id), uow=desk.uow())
    assert fetched.terms.loan_period_days == 5 and fetched.version == 2


async def test_the_default_row_stays_and_others_can_be_deleted(db: FakeLoansDatabase, desk: Desk) -> None:
    (default,) = db.rules.values()
    with pytest.raises(FailedPrecondition) as narrowed:
        await update(desk, UpdateCirculationRule(default.id, RuleTerms("ADULT", "*"), ("patron_category",)))
    assert narrowed.value.reason == "DEFAULT_RULE_REQUIRED"
    with pytest.raises(FailedPrecondition):
        await delete_circulation_rule(DeleteCirculationRule(default.id, actor=ADMIN), uow=desk.uow(), clock=desk.clock)
    rule = await create(desk, RuleTerms("CHILD", "DVD"))
    await delete_circulation_rule(DeleteCirculationRule(rule.id, actor=ADMIN), uow=desk.uow(), clock=desk.clock)
    with pytest.raises(NotFound):
        await get_circulation_rule(GetCirculationRule(rule.id), uow=desk.uow())
    assert db.event_types()[-1] == "CirculationRuleChanged" and list(db.rules) == [default.id]


async def test_deleting_a_row_someone_changed_meanwhile_is_refused_not_silently_skipped(
    db: FakeLoansDatabase, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The delete's version check failed silently: nothing deleted, yet "deleted" announced and remembered."""
    rule = await create(desk, RuleTerms("CHILD", "DVD"))
    read = FakeRuleRepository.get

    async def read_then_another_admin_updates(self: FakeRuleRepository, rule_id: uuid.UUID) -> CirculationRule:
        found = await read(self, rule_id)
        db.rules[rule_id].version += 1  # their update commits between our read and our delete
        return found

    monkeypatch.setattr(FakeRuleRepository, "get", read_then_another_admin_updates)
    request_id = uuid.uuid4()
    command = DeleteCirculationRule(rule.id, request_id=request_id, actor=ADMIN)
    with pytest.raises(Conflict) as lost:
        await delete_circulation_rule(command, uow=desk.uow(), clock=desk.clock)
    assert lost.value.reason == "CONCURRENT_UPDATE" and rule.id in db.rules and request_id not in db.requests
    assert db.event_types()[-1] == "CirculationRuleChanged" and len(db.events) == 1


async def test_the_rows_that_apply_are_listed_most_specific_first_page_by_page(desk: Desk) -> None:
    for category, item_type in (("CHILD", "DVD"), ("CHILD", "*"), ("*", "DVD"), ("ADULT", "BOOK")):
        await create(desk, RuleTerms(category, item_type))
    applying = await list_circulation_rules(ListCirculationRules("child", "dvd"), uow=desk.uow())
    keys = [(r.terms.patron_category, r.terms.item_type) for r in applying.items]
    assert keys == [("CHILD", "DVD"), ("CHILD", "*"), ("*", "DVD"), ("*", "*")] and applying.total_size == 4
    first = await list_circulation_rules(ListCirculationRules(page_size=3), uow=desk.uow())
    rest = ListCirculationRules(page_size=3, page_token=first.next_page_token)
    second = await list_circulation_rules(rest, uow=desk.uow())
    assert len(first.items) == 3 and len(second.items) == 2 and not second.next_page_token
    with pytest.raises(InvalidArgument):
        await list_circulation_rules(ListCirculationRules("CHILD", page_token=first.next_page_token), uow=desk.uow())
