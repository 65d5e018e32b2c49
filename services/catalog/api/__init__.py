"""The catalog on the wire: the gRPC servicer, proto conversions, event payloads, the GetBook cache."""
