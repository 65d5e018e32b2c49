"""Loans' users peer reads a closed account as closed (GetBorrowingEligibility's status DEACTIVATED): a charge on
it is refused (finding M7), while a blocked one still owes."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from athenaeum.users.v1 import users_pb2
from services.loans.data.peers import GrpcUsers


class _Answering:
    def __init__(self, status: int) -> None:
        self.status = status

    def GetBorrowingEligibility(self, request: Any, *, timeout: float) -> Any:
        return self._answer(request)  # the stub's call is an awaitable

    async def _answer(self, request: Any) -> Any:
        eligible = self.status == users_pb2.USER_STATUS_ACTIVE
        return users_pb2.BorrowingEligibility(name=request.name, eligible=eligible, status=self.status)


@pytest.mark.parametrize(
    ("status", "closed"),
    [
        (users_pb2.USER_STATUS_ACTIVE, False),
        (users_pb2.USER_STATUS_BLOCKED, False),
        (users_pb2.USER_STATUS_EXPIRED, False),
        (users_pb2.USER_STATUS_DEACTIVATED, True),
    ],
)
async def test_an_account_is_closed_only_when_users_says_deactivated(status: int, closed: bool) -> None:
    peer = GrpcUsers(grpc.aio.insecure_channel("localhost:1"), timeout=1.0)
    peer._stub = _Answering(status)  # type: ignore[assignment]
    assert (await peer.eligibility("users/p1")).closed is closed
