"""The catalog's use cases and the ports they need (ports.py)."""
