"""The users domain: accounts, who may change what, sign-in sessions, throttles and signing keys. Pure."""
