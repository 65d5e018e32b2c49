"""The library's calendar RPCs (closed days: create, list, delete), mixed into LoansServicer.

Their own module, as the rule RPCs are: the admins' configuration of lending, touching only the calendar."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from google.protobuf.empty_pb2 import Empty

from athenaeum.loans.v1 import loans_pb2, resources_pb2
from services.loans.api.convert import current_actor
from services.loans.app import calendar
from services.loans.app.ports import LoansUnitOfWork
from services.loans.domain.borrowing import BorrowingPolicy
from services.loans.domain.calendar import ClosedDay, parse_closed_day_name, parse_date
from services.support.runtime.clock import Clock
from services.support.runtime.idempotency import parse_request_id
from services.support.runtime.wire import timestamp

Context = grpc.aio.ServicerContext


def closed_day_to_proto(closed: ClosedDay) -> resources_pb2.ClosedDay:
    return resources_pb2.ClosedDay(
        name=closed.name, date=closed.day.isoformat(), reason=closed.reason, create_time=timestamp(closed.created_at)
    )


class ClosedDayRpcs:
    """The calendar RPCs of LoansService; the servicer that mixes them in sets `_uow`, `_clock`, `_borrowing`."""

    _uow: Callable[[], LoansUnitOfWork]
    _clock: Clock
    _borrowing: BorrowingPolicy

    async def CreateClosedDay(
        self, request: loans_pb2.CreateClosedDayRequest, context: Context
    ) -> resources_pb2.ClosedDay:
        """Closes the library on a day."""
        day = request.closed_day
        command = calendar.CreateClosedDay(
            parse_date(day.date, field="closed_day.date"),
            day.reason,
            request_id=parse_request_id(request.request_id),
            actor=current_actor(),
        )
        closed = await calendar.create_closed_day(
            command, uow=self._uow(), clock=self._clock, zone=self._borrowing.time_zone
        )
        return closed_day_to_proto(closed)

    async def ListClosedDays(
        self, request: loans_pb2.ListClosedDaysRequest, context: Context
    ) -> loans_pb2.ListClosedDaysResponse:
        """Lists the closed days, earliest first."""
        command = calendar.ListClosedDays(
            start=parse_date(request.start_date, field="start_date") if request.start_date else None,
            end=parse_date(request.end_date, field="end_date") if request.end_date else None,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        page = await calendar.list_closed_days(command, uow=self._uow())
        return loans_pb2.ListClosedDaysResponse(
            closed_days=[closed_day_to_proto(c) for c in page.items],
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )

    async def DeleteClosedDay(self, request: loans_pb2.DeleteClosedDayRequest, context: Context) -> Empty:
        """Opens the library again on a closed day."""
        command = calendar.DeleteClosedDay(
            parse_closed_day_name(request.name), request_id=parse_request_id(request.request_id), actor=current_actor()
        )
        await calendar.delete_closed_day(command, uow=self._uow(), clock=self._clock)
        return Empty()
