"""The loans database (tables, repositories, the SQL unit of work) and the peers reached over the mesh."""
