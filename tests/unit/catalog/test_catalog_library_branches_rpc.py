"""ListLibraryBranches (GET /v1/branches): the library's branches as the services refuse unknown codes by
(ATHENAEUM_LIBRARY_BRANCHES), for a client to offer as choices. No RPC answered them: the web's desk lists read up
to ten pages of holds for their branch choices, and a reader placing a hold had to type a pickup branch."""

from datetime import UTC, datetime
from typing import Any

from athenaeum.catalog.v1 import catalog_pb2
from services.catalog.api.servicer import CatalogServicer
from services.support.runtime.access import method_path, policy_for, service_descriptor
from services.support.runtime.branches import ANY_BRANCH, LibraryBranches
from services.support.runtime.clock import FixedClock
from services.support.runtime.identity import SIGNED_IN
from tests.unit.catalog.fakes import FakeCatalog

CATALOG = "athenaeum.catalog.v1.CatalogService"
KADIKOY = "Kad\u0131k\u00f6y"  # Kadikoy, its first i dotless (U+0131)


def _servicer(branches: LibraryBranches) -> CatalogServicer:
    return CatalogServicer(uow=FakeCatalog(), clock=FixedClock(datetime(2026, 12, 7, tzinfo=UTC)), branches=branches)


async def _ask(branches: LibraryBranches) -> catalog_pb2.ListLibraryBranchesResponse:
    context: Any = None  # the servicer reads nothing from it
    return await _servicer(branches).ListLibraryBranches(catalog_pb2.ListLibraryBranchesRequest(), context)


async def test_a_library_that_lists_its_branches_answers_them_in_its_order_and_spelling() -> None:
    answer = await _ask(LibraryBranches.parse(f" MAIN, east ,{KADIKOY}"))
    assert list(answer.branches) == ["MAIN", "east", KADIKOY]
    assert answer.listed is True


async def test_a_library_that_lists_none_answers_no_codes_and_not_listed() -> None:
    answer = await _ask(ANY_BRANCH)
    assert list(answer.branches) == []
    assert answer.listed is False


def test_any_signed_in_user_may_ask_and_a_restricted_account_too() -> None:
    method = service_descriptor(CATALOG).methods_by_name["ListLibraryBranches"]
    rule = policy_for([CATALOG])[method_path(method)]
    assert (rule.public, rule.mesh_only, rule.roles) == (SIGNED_IN.public, SIGNED_IN.mesh_only, SIGNED_IN.roles)
    assert rule.reads  # a GET: a blocked reader may still see where to pick up
