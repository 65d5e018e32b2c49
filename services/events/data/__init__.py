"""The events service's adapters: tables, the repository (COPY), partitions, the unit of work, the journal."""
