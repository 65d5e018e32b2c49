"""The loans API: the gRPC servicer, proto <-> domain conversion and the events' wire payloads."""
