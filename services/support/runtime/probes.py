"""The health service names the probes ask: known to the runtime that answers them and to the mesh
generator whose sidecars check peers with them (a module of names only, cheap to import)."""

LIVENESS_SERVICE = "liveness"
"""SERVING while the process runs, whatever its dependencies say: the liveness probe and the sidecars' checks
of their peers ask it, so a Postgres outage makes pods unready ("") but never restarts or ejects them."""

MESSAGING_SERVICE = "messaging"
"""SERVING while NATS answers and every consumer is subscribed: what `athenaeum status` shows beside readiness.
Not readiness: the outbox keeps the events while NATS is away, so the service still serves."""
