"""ListHolds' query language: an AIP-160 filter of `field = value` conditions joined by AND over the fields a
desk list needs (which branch's hold shelf or pull list), an AIP-132 order_by (placing order, or soonest pickup
deadline first), and the keyset cursors of their page tokens. Pure parsing: the data layer writes the SQL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from services.support.runtime.errors import InvalidArgument
from services.support.runtime.filter_strings import STRING, unquote
from services.support.runtime.pagination import cursor_time, decode_token

BRANCH_FIELDS = ("pickup_branch", "pull_branch")
FIELDS = (*BRANCH_FIELDS, "to_pull")
ORDERS = {"create_time": False, "expire_time": True}
"""order_by's fields: whether the list is by pickup deadline (else by placing)."""
_CONDITION = re.compile(rf"""\s*(?P<field>[a-z_]+)\s*=\s*(?:(?P<quoted>{STRING})|(?P<word>[^\s"'=]+))\s*""")
"""A value is a bare word (a branch code, true, false) holding no quote, or a quoted string."""
_AND = re.compile(r"AND\b")


@dataclass(frozen=True, slots=True)
class HoldConditions:
    """What ListHolds' `filter` asks for; empty fields do not filter. Branch codes are kept trimmed and in lower
    case, as the data layer compares them (staff type them in any case)."""

    pickup_branch: str = ""
    pull_branch: str = ""
    to_pull: bool | None = None


def parse_hold_filter(text: str) -> HoldConditions:
    """`field = value [AND field = value]…` over pickup_branch, pull_branch, to_pull; InvalidArgument names the
    problem (nothing of the request is echoed back beyond a field's name it knows)."""
    found: dict[str, str | bool] = {}
    rest = text.strip()
    while rest:
        match = _CONDITION.match(rest)
        if match is None:
            raise InvalidArgument.field("filter", f"expected `field = value` with field one of {', '.join(FIELDS)}")
        field, quoted = match["field"], match["quoted"]
        value = unquote(quoted) if quoted is not None else match["word"]
        if field not in FIELDS:
            raise InvalidArgument.field("filter", f"unknown field; known: {', '.join(FIELDS)}")
        if field in found:
            raise InvalidArgument.field("filter", f"{field} appears twice")
        found[field] = _value(field, value)
        rest = rest[match.end() :]
        if rest:
            joiner = _AND.match(rest)
            if joiner is None or not rest[joiner.end() :].strip():
                raise InvalidArgument.field("filter", "conditions are joined by AND (OR and NOT are not supported)")
            rest = rest[joiner.end() :]
    return HoldConditions(**found)  # type: ignore[arg-type]


def _value(field: str, value: str) -> str | bool:
    if field == "to_pull":
        if value not in ("true", "false"):
            raise InvalidArgument.field("filter", "to_pull is true or false")
        return value == "true"
    branch = value.strip().lower()
    if not branch or len(branch) > 64:
        raise InvalidArgument.field("filter", f"{field} is a branch code of 1 to 64 characters")
    return branch


def parse_hold_order(text: str) -> bool:
    """Whether `order_by` asks for the soonest pickup deadline first (`expire_time`); `create_time` or empty:
    placing order. Only ascending orders: a hold shelf is worked from the soonest deadline."""
    words = text.split()
    if not words:
        return False
    if words[0] not in ORDERS or len(words) > 2 or words[1:] not in ([], ["asc"]):
        raise InvalidArgument.field("order_by", f"expected one of {', '.join(ORDERS)}, optionally `asc`")
    return ORDERS[words[0]]


HoldCursor = tuple[datetime | None, int]
"""Where a list of holds resumes: strictly after this (deadline, seq); the deadline only when listed by it."""


def hold_cursor_after(token: str, query: str, *, by_deadline: bool) -> HoldCursor | None:
    """The (deadline, seq) a page resumes after; None for the first page."""
    cursor = decode_token(token, query)
    if not cursor:
        return None
    try:
        deadline, seq = cursor if by_deadline else (None, *cursor)
        number = int(seq)
        moment = cursor_time(deadline) if deadline is not None else None
    except (ValueError, TypeError, OverflowError):  # tokens are not signed: anything may come
        raise InvalidArgument.field("page_token", "is not a token this service issued") from None
    if not 0 <= number < 2**63:
        raise InvalidArgument.field("page_token", "is not a token this service issued")
    return moment, number


def hold_cursor(deadline: datetime | None, seq: int, *, by_deadline: bool) -> list[object]:
    """What a page token carries to resume after a hold (JSON-friendly)."""
    return [deadline.isoformat() if deadline else None, seq] if by_deadline else [seq]
