"""A copy's status off the wire: unspecified is "none given", a number the API does not define is refused (a new
copy with one was quietly made AVAILABLE)."""

from __future__ import annotations

import pytest

from athenaeum.catalog.v1 import catalog_pb2
from services.catalog.api.convert import status_from_proto
from services.catalog.domain.copy_values import CopyStatus
from services.support.runtime.errors import InvalidArgument


def test_a_status_number_reads_as_its_status_or_none_when_unspecified() -> None:
    assert status_from_proto(catalog_pb2.COPY_STATUS_UNSPECIFIED) is None
    assert status_from_proto(catalog_pb2.COPY_STATUS_DAMAGED) == CopyStatus.DAMAGED


def test_a_status_number_the_api_does_not_define_is_refused_by_name() -> None:
    with pytest.raises(InvalidArgument) as refused:
        status_from_proto(99)  # type: ignore[arg-type]
    assert [v.field for v in refused.value.violations] == ["copy.status"]
