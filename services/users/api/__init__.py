"""The users gRPC surface: servicers, proto <-> domain conversion, event payloads."""
