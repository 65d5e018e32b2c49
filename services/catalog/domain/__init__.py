"""The catalog's rules: books, copies and how a copy circulates. Pure: no I/O, no protobuf, no asyncio."""
