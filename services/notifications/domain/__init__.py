"""The notifications domain: kinds, recipients, notifications, templates and delivery rules. Pure."""
