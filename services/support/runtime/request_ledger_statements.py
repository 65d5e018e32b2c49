"""The request ledger's statements (`runtime.request_ledger`), each run on its own through the driver, and the
answers waiting for a claim to store them."""

from __future__ import annotations

import asyncio
import base64
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.dialects.postgresql import insert as upsert

from services.support.runtime.driver import DriverStatement
from services.support.runtime.idempotency import COMMITTED, IN_PROGRESS, REQUESTS
from services.support.runtime.upkeep import BATCH_ROWS

_P = sa.bindparam
_claim = upsert(REQUESTS).values(
    request_id=_P("rid"),
    operation=_P("op"),
    resource="",
    state=IN_PROGRESS,
    fingerprint=_P("prints"),
    owner=_P("attempt"),
    lease_until=sa.func.now() + _P("lease", type_=sa.Interval),
)
# The answers as JSON rows, not arrays: Postgres sees how many elements an array given to a call holds, and so
# found a plan for those one or two answers cheaper than the plan it keeps for any number; it planned the claim
# again at most calls (~0.2 ms each). It cannot count a JSON document's rows, so the kept plan is the one used.
_answers = (
    sa.func.jsonb_to_recordset(_P("answers", type_=JSONB))
    .table_valued(
        sa.column("rid", UUID(as_uuid=True)), sa.column("owner", UUID(as_uuid=True)), sa.column("given", sa.Text)
    )
    .render_derived(name="answers", with_types=True)
)
# Answers of attempts that still own their ids (a later owner's id is left to it), as one statement.
_store_answers = (
    REQUESTS.update()
    .where(REQUESTS.c.request_id == _answers.c.rid, REQUESTS.c.owner == _answers.c.owner)
    .values(state=COMMITTED, answer=sa.func.decode(_answers.c.given, "base64"), refused=False, lease_until=None)
    .returning(REQUESTS.c.request_id)
)
STORE_ANSWERS = DriverStatement(_store_answers)
# A new id is ours; so is one whose attempt outlived its lease without committing (it died or hung: its late
# commit is fenced off by `remember`, which only the owner may do), when it is the same request. The answers
# waiting are stored in the same statement.
CLAIM = DriverStatement(
    _claim.on_conflict_do_update(
        index_elements=[REQUESTS.c.request_id],
        set_={"owner": _claim.excluded.owner, "lease_until": _claim.excluded.lease_until},
        where=(REQUESTS.c.state == IN_PROGRESS)
        & (REQUESTS.c.lease_until < sa.func.now())
        & (REQUESTS.c.operation == _claim.excluded.operation)
        & REQUESTS.c.fingerprint.is_not_distinct_from(_claim.excluded.fingerprint),
    )
    .returning(
        REQUESTS.c.owner,
        # A made row's created_at is this statement's now(); a taken-over row keeps its first claim's.
        (REQUESTS.c.created_at == sa.func.now()).label("made"),
    )
    .add_cte(_store_answers.cte("stored"))
)
SEEN = DriverStatement(
    sa.select(
        REQUESTS.c.operation,
        REQUESTS.c.state,
        REQUESTS.c.fingerprint,
        REQUESTS.c.owner,
        REQUESTS.c.answer,
        REQUESTS.c.refused,
        sa.func.extract("epoch", REQUESTS.c.lease_until - sa.func.now()).label("lease_left"),
    ).where(REQUESTS.c.request_id == _P("rid"))
)
_owned = (REQUESTS.c.request_id == _P("rid")) & (REQUESTS.c.owner == _P("attempt"))
# A refusal is an answer only while nothing was committed for the request; else the commit is the answer.
REFUSE = DriverStatement(
    REQUESTS.update()
    .where(_owned & (REQUESTS.c.state == IN_PROGRESS))
    .values(state=COMMITTED, answer=_P("given"), refused=True, lease_until=None)
    .returning(REQUESTS.c.request_id)
)
EXPIRE = REQUESTS.delete().where(
    REQUESTS.c.request_id.in_(
        sa.select(REQUESTS.c.request_id)
        .where(REQUESTS.c.created_at < sa.func.now() - _P("keep", type_=sa.Interval))
        .limit(BATCH_ROWS)
    )
)


Answer = tuple[uuid.UUID, uuid.UUID, bytes | None, "asyncio.Future[None]"]
"""An answer waiting to be stored: the request_id, the attempt that owns it, the answer, and its future."""


def answer_rows(answers: list[Answer]) -> dict[str, list[dict[str, str | None]]]:
    """The parameter of the answers a statement stores (`STORE_ANSWERS`, `CLAIM`): a row each, the answer's
    bytes in base64."""
    return {
        "answers": [
            {"rid": str(rid), "owner": str(owner), "given": None if given is None else base64.b64encode(given).decode()}
            for rid, owner, given, _ in answers
        ]
    }


def settle_answers(answers: list[Answer], error: Exception | None = None) -> None:
    for *_, stored in answers:
        if stored.done():
            continue
        if error is None:
            stored.set_result(None)
        else:
            stored.set_exception(error)
