"""Notifications adapters: Postgres tables and repositories, Jinja2, SMTP, the SMS provider, the catalog."""
