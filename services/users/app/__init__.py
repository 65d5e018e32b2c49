"""The users use cases and the ports they need (repositories, unit of work, password hashing, signing keys)."""
