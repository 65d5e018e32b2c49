"""The catalog in Postgres: tables, repositories, the search queries and the unit of work."""
