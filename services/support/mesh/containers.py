"""The commands Athenaeum's containers run besides the services themselves.

    python -m services.support.mesh.containers certs DIR --ca-dir CA   # compose's one-shot certificate job
    python -m services.support.mesh.containers health [TARGET]         # the image's HEALTHCHECK (gRPC health)
    python -m services.support.mesh.containers wait-for-schema NAME    # a Kubernetes pod's init container

Kept light (nothing heavy is imported until a command needs it): the health check runs every few seconds.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from services.support.mesh import registry
from services.support.mesh.topology import APP_SOCKET, CONTAINER_SOCKET_DIR


def issue_mesh_certificates(cert_dir: Path, ca_dir: Path) -> None:
    """Fresh certificates for every mesh identity from the CA in `ca_dir` (kept apart: no key of the CA
    ever reaches a container that serves traffic); `cert_dir` gets the CA certificate too."""
    from services.support.mesh.certs import CA_CERT, ensure_ca, issue_certificate

    ca_cert = ensure_ca(ca_dir)
    for identity in registry.identities():
        issue_certificate(cert_dir, identity, ca_dir=ca_dir)
    shutil.copyfile(ca_cert, cert_dir / CA_CERT)


def health_status(target: str, service: str = "") -> str:
    """The grpc.health.v1 status of `service` at `target`, or the error's code name."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(target, options=[("grpc.enable_http_proxy", 0)]) as channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=2
            )
        except grpc.RpcError as error:
            return str(error.code().name)
    return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)


class SchemaBehind(Exception):
    """The service's database is not (yet) at the schema this image's migrations end with."""


def wait_for_schema(service: str, *, first: float = 1.0) -> None:
    """Return once `service`'s database (ATHENAEUM_DATABASE_URL and _PASSWORD, as the service reads them) is at
    the head of this image's migrations, or past it: the migration job may run beside the pods, which must not
    start before it."""
    import asyncio

    from services.support.runtime.migrations import schema_state
    from services.support.runtime.retrying import retry_forever
    from services.support.runtime.settings import BaseServiceSettings

    url = BaseServiceSettings().database_url

    async def check() -> None:
        state = await asyncio.to_thread(schema_state, service, url)
        if not state.ready:
            raise SchemaBehind(f"at {sorted(state.current) or 'no revision'}, waiting for {sorted(state.heads)}")

    asyncio.run(retry_forever(check, what=f"the {service} database schema", first=first, most=5.0))


def main(argv: list[str] | None = None) -> int:
    """`certs DIR --ca-dir CA` issues the mesh certificates; `health [TARGET]` exits 0 only when SERVING;
    `wait-for-schema NAME` returns once NAME's database is migrated."""
    parser = argparse.ArgumentParser(prog="python -m services.support.mesh.containers", description=main.__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    certs = commands.add_parser("certs", help="issue the mesh certificates into DIR")
    certs.add_argument("cert_dir", type=Path)
    certs.add_argument("--ca-dir", type=Path, required=True)
    health = commands.add_parser("health", help="gRPC health check of a service (for HEALTHCHECK)")
    health.add_argument("target", nargs="?", default=f"unix:{CONTAINER_SOCKET_DIR / APP_SOCKET}")
    health.add_argument("--service", default="", help='health service name ("" = ready, "liveness")')
    schema = commands.add_parser("wait-for-schema", help="wait until a service's database is migrated")
    schema.add_argument("service", choices=[spec.name for spec in registry.SERVICES])
    args = parser.parse_args(argv)
    if args.command == "certs":
        issue_mesh_certificates(args.cert_dir, args.ca_dir)
        print(f"issued {', '.join(registry.identities())} into {args.cert_dir}")
        return 0
    if args.command == "wait-for-schema":
        from services.support.runtime.telemetry import configure_logging

        configure_logging(service=args.service, level="INFO")
        wait_for_schema(args.service)
        print(f"the {args.service} database schema is current")
        return 0
    status = health_status(args.target, args.service)
    if status != "SERVING":
        print(status, file=sys.stderr)
    return 0 if status == "SERVING" else 1


if __name__ == "__main__":
    raise SystemExit(main())
