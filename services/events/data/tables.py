"""The log's table, partitioned by category (LIST), then each category by month (RANGE on occur_time).

Declared here as the migrations build it. What the partitions add (made by migration 0003 and by
data/partitions.py, so not in this metadata): the AUDIT partitions carry the btree indexes "who did what to
this resource" needs (id, actor, subject, and GIN on resources); ACTIVITY partitions carry only what
ingestion at 50,000 events/s can afford (the primary key, led by time, BRIN on time and (type, time)).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = sa.MetaData()

events = sa.Table(
    "events",
    metadata,
    # Led by time: inserts land at the right edge of the index, and newest-first pages walk it backwards.
    sa.Column("occur_time", sa.DateTime(timezone=True), primary_key=True),
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("category", sa.SmallInteger, primary_key=True),
    sa.Column("record_time", sa.DateTime(timezone=True), nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False, server_default=""),
    sa.Column("subject", sa.Text, nullable=False, server_default=""),
    sa.Column("source", sa.Text, nullable=False, server_default=""),
    sa.Column("trace_id", sa.Text, nullable=False, server_default=""),
    sa.Column("attributes", JSONB, nullable=False, server_default="{}"),
    sa.Column("resources", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Index("events_occur_time_brin", "occur_time", postgresql_using="brin"),
    sa.Index("events_type_time", "type", "occur_time"),
    postgresql_partition_by="LIST (category)",
)

COLUMNS = tuple(column.name for column in events.columns)
"""The order of the rows the repository COPYs."""
