"""The activity log's rules: what an event is, what a valid one looks like, queries and aggregations over
them, and how the log is partitioned in time. Pure Python: no I/O, no protobuf."""
