"""The loans use cases: each takes its command and, by keyword, exactly the ports it needs (app/ports.py, peers.py)."""
