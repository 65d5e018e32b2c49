"""The circulation rule matrix's RPCs (create, get, list, update, delete), mixed into LoansServicer.

Their own module because they are the admins' configuration of lending, not circulation: they touch the rules
(a unit of work and the clock) and ask the catalog only whether an item type exists, never a policy or the
currency the rest of the servicer carries.
"""

from __future__ import annotations

from collections.abc import Callable

import grpc
from google.protobuf.empty_pb2 import Empty

from athenaeum.loans.v1 import loans_pb2, resources_pb2
from services.loans.api.convert import current_actor, rule_mask_from_proto, rule_to_proto, terms_from_proto
from services.loans.app import rule_matrix
from services.loans.app.peers import Catalog
from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.rules import RULE
from services.support.runtime.clock import Clock
from services.support.runtime.idempotency import parse_request_id

Context = grpc.aio.ServicerContext


class CirculationRuleRpcs:
    """The rule RPCs of LoansService; the servicer that mixes them in sets `_uow`, `_clock` and `_catalog`."""

    _uow: Callable[[], LoansUnitOfWork]
    _clock: Clock
    _catalog: Catalog

    async def CreateCirculationRule(
        self, request: loans_pb2.CreateCirculationRuleRequest, context: Context
    ) -> resources_pb2.CirculationRule:
        """Adds a circulation rule."""
        command = rule_matrix.CreateCirculationRule(
            terms_from_proto(request.circulation_rule), parse_request_id(request.request_id), current_actor()
        )
        created = await rule_matrix.create_circulation_rule(
            command, uow=self._uow(), clock=self._clock, catalog=self._catalog
        )
        return rule_to_proto(created)

    async def GetCirculationRule(
        self, request: loans_pb2.GetCirculationRuleRequest, context: Context
    ) -> resources_pb2.CirculationRule:
        """Returns one circulation rule."""
        command = rule_matrix.GetCirculationRule(RULE.parse_id(request.name))
        return rule_to_proto(await rule_matrix.get_circulation_rule(command, uow=self._uow()))

    async def ListCirculationRules(
        self, request: loans_pb2.ListCirculationRulesRequest, context: Context
    ) -> loans_pb2.ListCirculationRulesResponse:
        """Lists circulation rules, most specific first."""
        command = rule_matrix.ListCirculationRules(
            patron_category=request.patron_category,
            item_type=request.item_type,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        page = await rule_matrix.list_circulation_rules(command, uow=self._uow())
        return loans_pb2.ListCirculationRulesResponse(
            circulation_rules=[rule_to_proto(r) for r in page.items],
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )

    async def UpdateCirculationRule(
        self, request: loans_pb2.UpdateCirculationRuleRequest, context: Context
    ) -> resources_pb2.CirculationRule:
        """Changes the fields named in update_mask."""
        rule = request.circulation_rule
        command = rule_matrix.UpdateCirculationRule(
            RULE.parse_id(rule.name, field="circulation_rule.name"),
            terms_from_proto(rule),
            rule_mask_from_proto(request.update_mask.paths),
            etag=rule.etag,
            request_id=parse_request_id(request.request_id),
            actor=current_actor(),
        )
        updated = await rule_matrix.update_circulation_rule(
            command, uow=self._uow(), clock=self._clock, catalog=self._catalog
        )
        return rule_to_proto(updated)

    async def DeleteCirculationRule(self, request: loans_pb2.DeleteCirculationRuleRequest, context: Context) -> Empty:
        """Removes a circulation rule."""
        command = rule_matrix.DeleteCirculationRule(
            RULE.parse_id(request.name),
            etag=request.etag,
            request_id=parse_request_id(request.request_id),
            actor=current_actor(),
        )
        await rule_matrix.delete_circulation_rule(command, uow=self._uow(), clock=self._clock)
        return Empty()
