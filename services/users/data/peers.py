"""The loans service over the mesh (through our sidecar), as the Circulation port in app/ports.py.

Only what closing an account needs: its patron's active loans and outstanding fines, counted by the loans
service's own list RPCs (one item a page: the totals are what count). Any failure to get an answer is
DependencyUnavailable: an account is never closed on a guess.
"""

from __future__ import annotations

import grpc

from athenaeum.loans.v1 import loans_pb2, loans_pb2_grpc, resources_pb2
from services.support.runtime.errors import DependencyUnavailable
from services.users.domain.accounts import Standing


class GrpcCirculation:
    def __init__(self, channel: grpc.aio.Channel, *, timeout: float) -> None:
        self._stub = loans_pb2_grpc.LoansServiceStub(channel)
        self._timeout = timeout

    async def standing(self, patron: str) -> Standing:
        loans = loans_pb2.ListLoansRequest(parent=patron, status=resources_pb2.LOAN_STATUS_ACTIVE, page_size=1)
        fines = loans_pb2.ListFinesRequest(parent=patron, status=resources_pb2.FINE_STATUS_OUTSTANDING, page_size=1)
        try:
            out = await self._stub.ListLoans(loans, timeout=self._timeout)
            owed = await self._stub.ListFines(fines, timeout=self._timeout)
        except grpc.aio.AioRpcError as error:
            raise DependencyUnavailable(
                "the loans service could not say whether the reader has books out or fines unpaid, so the "
                "account was not closed; try again shortly",
                reason="LOANS_UNAVAILABLE",
                metadata={"peer": "loans", "code": error.code().name},
                retry_after=1.0,
            ) from None
        return Standing(
            loans_out=out.total_size, fines_outstanding=owed.total_size, amount_owed=owed.outstanding_total or "0"
        )
