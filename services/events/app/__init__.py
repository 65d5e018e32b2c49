"""The events service's use cases and the ports they need (ports.py)."""
