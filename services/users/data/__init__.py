"""Users persistence and adapters: tables, repositories, the SQL unit of work, signing keys, argon2id."""
