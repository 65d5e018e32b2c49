"""The loans service over the mesh (through our sidecar), as the Circulation port in app/ports.py.

Only what closing an account needs: its patron's active loans and outstanding fines, counted by the loans
service (GetClosingStanding), which holds the patron's charges for a moment from then: the close is committed
within it (accounts.delete_user). Any failure to get an answer is DependencyUnavailable: an account is never
closed on a guess.
"""

from __future__ import annotations

import grpc

from athenaeum.loans.v1 import loans_pb2, loans_pb2_grpc
from services.support.runtime.errors import DependencyUnavailable
from services.users.domain.accounts import Standing


class GrpcCirculation:
    def __init__(self, channel: grpc.aio.Channel, *, timeout: float) -> None:
        self._stub = loans_pb2_grpc.LoansServiceStub(channel)
        self._timeout = timeout

    async def standing(self, patron: str) -> Standing:
        request = loans_pb2.GetClosingStandingRequest(name=patron)
        try:
            answer = await self._stub.GetClosingStanding(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as error:
            raise DependencyUnavailable(
                "the loans service could not say whether the reader has books out or fines unpaid, so the "
                "account was not closed; try again shortly",
                reason="LOANS_UNAVAILABLE",
                metadata={"peer": "loans", "code": error.code().name},
                retry_after=1.0,
            ) from None
        return Standing(
            loans_out=answer.loans_out,
            fines_outstanding=answer.fines_outstanding,
            amount_owed=answer.amount_owed or "0",
            charges_held_for=answer.charges_held_for.ToTimedelta(),
        )
