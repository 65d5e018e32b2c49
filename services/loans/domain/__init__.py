"""Circulation rules in plain Python: loans (the issue saga's record), the rules matrix, fines, holds, and
who may borrow. No I/O, no protobuf, no asyncio."""
