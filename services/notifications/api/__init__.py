"""The notifications gRPC surface, its event payloads, JetStream consumers and background workers."""
