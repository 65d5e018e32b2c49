"""UpdateCirculationRule's update_mask speaks the API's field names (hard_due_time), not the domain's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from athenaeum.loans.v1 import loans_pb2, resources_pb2
from services.loans.api.convert import rule_mask_from_proto, rule_to_proto
from services.loans.api.servicer import LoansServicer
from services.loans.app.reconciling import ReconcilePolicy
from services.loans.domain.borrowing import BorrowingPolicy
from services.loans.domain.rules import CirculationRule, RuleTerms
from services.support.runtime.errors import InvalidArgument
from services.support.runtime.wire import timestamp

from ..desk import CURRENCY, NOW, Desk
from ..fakes import FakeLoansDatabase

TERM_END = NOW + timedelta(days=90)


def servicer(db: FakeLoansDatabase, desk: Desk) -> LoansServicer:
    return LoansServicer(
        uow=db.unit_of_work, clock=desk.clock, users=desk.users, catalog=desk.catalog,
        borrowing=BorrowingPolicy(), currency=CURRENCY, reconcile=ReconcilePolicy(),
    )  # fmt: skip


def term_rule(db: FakeLoansDatabase, **terms: Any) -> CirculationRule:
    rule = CirculationRule.create(RuleTerms("*", "TERM", **terms), now=NOW)
    rule.events.clear()
    db.rules[rule.id] = rule
    return rule


async def test_the_hard_due_time_is_set_and_cleared_by_its_api_name(db: FakeLoansDatabase, desk: Desk) -> None:
    rule = term_rule(db, max_loans=3)
    changes = rule_to_proto(rule)
    changes.hard_due_time.CopyFrom(timestamp(TERM_END))
    changes.max_loans = 99  # not in the mask: kept
    request = loans_pb2.UpdateCirculationRuleRequest(
        circulation_rule=changes, update_mask=FieldMask(paths=["hard_due_time"])
    )
    updated = await servicer(db, desk).UpdateCirculationRule(request, None)  # type: ignore[arg-type]
    assert updated.hard_due_time == timestamp(TERM_END) and updated.max_loans == 3
    assert db.rules[rule.id].terms.hard_due_at == TERM_END
    cleared = loans_pb2.UpdateCirculationRuleRequest(
        circulation_rule=resources_pb2.CirculationRule(name=rule.name), update_mask=FieldMask(paths=["hard_due_time"])
    )
    updated = await servicer(db, desk).UpdateCirculationRule(cleared, None)  # type: ignore[arg-type]
    assert not updated.HasField("hard_due_time") and db.rules[rule.id].terms.hard_due_at is None


@pytest.mark.parametrize("path", ["hard_due_at", "etag", "create_time", "name", "no_such_field"])
async def test_a_path_that_is_not_a_writable_api_field_is_refused_naming_the_api_fields(
    db: FakeLoansDatabase, desk: Desk, path: str
) -> None:
    rule = term_rule(db, hard_due_at=TERM_END)
    request = loans_pb2.UpdateCirculationRuleRequest(
        circulation_rule=resources_pb2.CirculationRule(name=rule.name), update_mask=FieldMask(paths=[path])
    )
    with pytest.raises(InvalidArgument) as bad:
        await servicer(db, desk).UpdateCirculationRule(request, None)  # type: ignore[arg-type]
    (violation,) = bad.value.violations
    assert violation.field == "update_mask" and f"field(s): {path};" in violation.description
    assert "hard_due_time" in violation.description and "hard_due_at" not in violation.description.split(";")[1]
    assert db.rules[rule.id].terms.hard_due_at == TERM_END


def test_every_writable_api_field_names_a_term_and_a_star_means_all() -> None:
    assert set(rule_mask_from_proto(["hard_due_time", "max_loans"])) == {"hard_due_at", "max_loans"}
    assert rule_mask_from_proto(["*"]) == ("*",) and rule_mask_from_proto([]) == ()
    writable = set(resources_pb2.CirculationRule.DESCRIPTOR.fields_by_name) - {
        "name",
        "etag",
        "create_time",
        "update_time",
    }
    assert set(rule_mask_from_proto(sorted(writable))) == set(RuleTerms.__dataclass_fields__)
