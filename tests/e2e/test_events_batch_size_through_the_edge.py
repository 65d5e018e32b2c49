"""A batch too big to be accepted whole is refused as the client's to split (INVALID_ARGUMENT naming `events`),
never with the transport's bare RESOURCE_EXHAUSTED, which the RPCs document as "retry after the delay"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from athenaeum.events.v1 import events_pb2, events_pb2_grpc
from services.support.runtime.wire import timestamp

pytestmark = pytest.mark.e2e


def _events(count: int) -> list[events_pb2.Event]:
    """Events of about 15 KiB each, under the 16 KiB an event may be: 280 of them make 4.25 MB."""
    stamp = timestamp(datetime.now(UTC))
    return [
        events_pb2.Event(type="test.big", source="e2e", occur_time=stamp,
                         attributes={f"a{j}": f"{i:04d}" * 250 for j in range(15)})
        for i in range(count)
    ]  # fmt: skip


def _field_violations(error: grpc.RpcError) -> list[str]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    fields = []
    for detail in status.details if status else ():
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            fields.extend(violation.field for violation in bad.field_violations)
    return fields


@pytest.mark.parametrize("count", [280, 1000])  # just over 4 MiB, and the most events a batch may hold (15 MB)
def test_a_batch_over_4_mib_is_invalid_and_one_under_it_is_accepted(mesh, librarian, count: int) -> None:
    with grpc.insecure_channel(mesh.edge_grpc_target) as channel:
        stub = events_pb2_grpc.EventsServiceStub(channel)
        fits = stub.BatchRecordEvents(
            events_pb2.BatchRecordEventsRequest(events=_events(250)), metadata=librarian.metadata, timeout=60
        )
        assert fits.accepted_count == 250
        with pytest.raises(grpc.RpcError) as refused:
            stub.BatchRecordEvents(
                events_pb2.BatchRecordEventsRequest(events=_events(count)), metadata=librarian.metadata, timeout=60
            )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, refused.value.details()
    assert "split it" in (refused.value.details() or "")
    assert _field_violations(refused.value) == ["events"]


def test_a_streamed_batch_over_4_mib_is_invalid_after_the_ones_before_it(mesh, librarian) -> None:
    def batches() -> Iterator[events_pb2.StreamRecordEventsRequest]:
        yield events_pb2.StreamRecordEventsRequest(events=_events(10))
        yield events_pb2.StreamRecordEventsRequest(events=_events(280))

    acknowledged = []
    with grpc.insecure_channel(mesh.edge_grpc_target) as channel, pytest.raises(grpc.RpcError) as refused:
        for ack in events_pb2_grpc.EventsServiceStub(channel).StreamRecordEvents(
            batches(), metadata=librarian.metadata, timeout=60
        ):
            acknowledged.append(ack.accepted_count)
    assert acknowledged == [10]
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, refused.value.details()
    assert _field_violations(refused.value) == ["events"]
