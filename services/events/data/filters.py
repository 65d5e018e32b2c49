"""Event queries as SQL: the conditions of an EventQuery, and the statement of an aggregation."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.events.data.tables import events
from services.events.domain.aggregation import MAX_COUNTS, Aggregation
from services.events.domain.query import ATTRIBUTES, Condition, EventQuery

_ORDER = {"<": "__lt__", "<=": "__le__", ">": "__gt__", ">=": "__ge__"}
_EPOCH: sa.ColumnElement[Any] = sa.literal_column("'1970-01-01T00:00:00Z'::timestamptz")


def conditions(query: EventQuery) -> list[sa.ColumnElement[bool]]:
    return [_condition(condition) for condition in query.conditions]


def _condition(condition: Condition) -> sa.ColumnElement[bool]:
    if condition.field == "occur_time":
        clause: sa.ColumnElement[bool] = getattr(events.c.occur_time, _ORDER[condition.op])(condition.value)
        return clause
    if condition.field == "category":
        return _negated(events.c.category == int(condition.value), condition)  # type: ignore[arg-type]
    value = str(condition.value)
    if condition.field == "resource":
        return _negated(_resource(value, prefix=condition.prefix), condition)
    attribute = condition.field.startswith(ATTRIBUTES)
    column: Any = (
        events.c.attributes[condition.field[len(ATTRIBUTES) :]].astext if attribute else events.c[condition.field]
    )
    matched = column.startswith(value, autoescape=True) if condition.prefix else column == value
    # An attribute may be missing (NULL): then it is not equal. The other columns are NOT NULL, and
    # left bare so that their indexes serve.
    return _negated(sa.func.coalesce(matched, False) if attribute else matched, condition)


def _resource(value: str, *, prefix: bool) -> sa.ColumnElement[bool]:
    """The subject, or any resource the event names (GIN-indexed on AUDIT partitions)."""
    if not prefix:
        return sa.or_(events.c.subject == value, events.c.resources.contains([value]))
    element = sa.func.unnest(events.c.resources).table_valued("name").render_derived()
    named = sa.exists(sa.select(1).select_from(element).where(element.c.name.startswith(value, autoescape=True)))
    return sa.or_(events.c.subject.startswith(value, autoescape=True), named)


def _negated(clause: sa.ColumnElement[bool], condition: Condition) -> sa.ColumnElement[bool]:
    return sa.not_(clause) if condition.op == "!=" else clause


def aggregate_statement(aggregation: Aggregation) -> sa.Select[Any]:
    """Counts per (bucket, key); with groups, only the `top` keys by count over the whole range."""
    bucket = _bucket(aggregation)
    key = _group_key(aggregation.group_by)
    counted = (
        sa.select(bucket.label("bucket"), key.label("key"), sa.func.count().label("count"))
        .where(
            events.c.occur_time >= aggregation.start,
            events.c.occur_time < aggregation.end,
            *conditions(aggregation.query),
        )
        .group_by(sa.text("1"), sa.text("2"))
        .cte("counted")
    )
    statement = sa.select(counted.c.bucket, counted.c.key, counted.c.count)
    if aggregation.group_by:
        top = (
            sa.select(counted.c.key)
            .group_by(counted.c.key)
            .order_by(sa.func.sum(counted.c.count).desc(), counted.c.key)
            .limit(aggregation.top)
            .cte("top")
        )
        statement = statement.join(top, top.c.key == counted.c.key)
    return statement.order_by(counted.c.bucket, counted.c.count.desc(), counted.c.key).limit(MAX_COUNTS + 1)


def _bucket(aggregation: Aggregation) -> sa.ColumnElement[Any]:
    """Epoch-aligned UTC buckets, or for the days of a time zone the local date's midnight as a wall-clock
    timestamp (DST days are 23 or 25 hours); the repository makes that the instant the day began, which Postgres
    alone would place an hour late where clocks go back at midnight."""
    width = aggregation.interval.width
    if width is None:
        return sa.literal(aggregation.start)
    if aggregation.day_zone is not None:
        return sa.func.date_trunc("day", sa.func.timezone(aggregation.time_zone, events.c.occur_time))
    return sa.func.date_bin(width, events.c.occur_time, _EPOCH)


def _group_key(group_by: str) -> sa.ColumnElement[Any]:
    if not group_by:
        return sa.literal("")
    if group_by.startswith(ATTRIBUTES):
        return sa.func.coalesce(events.c.attributes[group_by[len(ATTRIBUTES) :]].astext, "")
    return events.c[group_by]
