"""The events table: partitioned by category, then by month; a default partition per category.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE events (
            occur_time timestamptz NOT NULL,
            id uuid NOT NULL,
            category smallint NOT NULL,
            record_time timestamptz NOT NULL,
            type text NOT NULL,
            actor text NOT NULL DEFAULT '',
            subject text NOT NULL DEFAULT '',
            source text NOT NULL DEFAULT '',
            trace_id text NOT NULL DEFAULT '',
            attributes jsonb NOT NULL DEFAULT '{}',
            resources text[] NOT NULL DEFAULT '{}',
            PRIMARY KEY (occur_time, id, category)
        ) PARTITION BY LIST (category)
        """
    )
    for statement in (
        "CREATE INDEX events_occur_time_brin ON events USING brin (occur_time)",
        "CREATE INDEX events_type_time ON events (type, occur_time)",
        "CREATE TABLE events_activity PARTITION OF events FOR VALUES IN (1) PARTITION BY RANGE (occur_time)",
        "CREATE TABLE events_audit PARTITION OF events FOR VALUES IN (2) PARTITION BY RANGE (occur_time)",
        # "Who did what to this resource" is asked of the audit trail: only its partitions pay these.
        "CREATE INDEX events_audit_id ON events_audit (id)",
        "CREATE INDEX events_audit_actor_time ON events_audit (actor, occur_time)",
        "CREATE INDEX events_audit_subject_time ON events_audit (subject, occur_time)",
        "CREATE INDEX events_audit_resources ON events_audit USING gin (resources)",
        # Events outside every monthly partition (older than the first one) land here.
        "CREATE TABLE events_activity_default PARTITION OF events_activity DEFAULT",
        "CREATE TABLE events_audit_default PARTITION OF events_audit DEFAULT",
    ):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE events")
