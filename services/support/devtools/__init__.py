"""Developer tooling: code generation from the protos and helpers to find the tools it needs."""
