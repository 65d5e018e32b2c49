-- Generated from services/support/mesh/registry.py by `athenaeum generate` — do not edit.
CREATE DATABASE athenaeum_users;
CREATE DATABASE athenaeum_catalog;
CREATE DATABASE athenaeum_loans;
CREATE DATABASE athenaeum_notifications;
CREATE DATABASE athenaeum_events;
REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
REVOKE CONNECT ON DATABASE template1 FROM PUBLIC;
