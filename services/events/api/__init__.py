"""The events service's edges: the gRPC servicer, conversions, the JetStream consumers and the live feed."""
