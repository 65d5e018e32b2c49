"""ImportBooks' request stream as the import reads it: a bad row is named by its number in the file.

The boundary check (runtime.boundary) refuses a row it cannot take (a control character, too long) by its
index in the one message that carried it, `rows[2]`; the import numbers the rows over the whole stream
(`row 5`, in ImportBooksResponse.errors). A client streaming a file in chunks could not map the first back to
a line, so the boundary's refusal is renamed here to count over the stream too.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from athenaeum.catalog.v1 import catalog_pb2
from services.support.runtime.errors import FieldViolation, InvalidArgument

_ROW = re.compile(r"rows\[(\d+)\]")


async def rows_counted_over_the_stream(
    requests: AsyncIterator[catalog_pb2.ImportBooksRequest],
) -> AsyncIterator[catalog_pb2.ImportBooksRequest]:
    """The stream as it comes; a refusal of one of its rows names `rows[i]` counted from the stream's first
    row, and says "row i+1", as the import's own row errors do."""
    before = 0
    try:
        async for message in requests:
            yield message
            before += len(message.rows)
    except InvalidArgument as error:
        raise InvalidArgument([_counted(violation, before) for violation in error.violations]) from None


def _counted(violation: FieldViolation, before: int) -> FieldViolation:
    found = _ROW.fullmatch(violation.field)
    if found is None:
        return violation
    index = before + int(found[1])
    return FieldViolation(f"rows[{index}]", f"row {index + 1}: {violation.description}")
