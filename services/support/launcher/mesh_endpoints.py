"""What a LocalMesh tells others about itself: the endpoints a human or a tool dials, each service's
database URL and environment, a NATS client's options. Mixed into LocalMesh (mesh.py), which sets what is
declared here; the addresses that follow from the topology alone are MeshAddresses' (layout.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from services.support.launcher import components
from services.support.launcher.credentials import kept_secret, without_secret
from services.support.launcher.database_roles import role_url
from services.support.launcher.layout import MeshAddresses
from services.support.launcher.nats import LocalNats
from services.support.launcher.postgres import PostgresServer
from services.support.launcher.sink_servers import LocalSinks, SinkAddresses, password_file
from services.support.mesh import registry


class MeshEndpoints(MeshAddresses):
    """Where the parts of a LocalMesh are, as its services and its users are told."""

    data_dir: Path
    envoys: bool
    services: tuple[str, ...]
    postgres: PostgresServer
    nats_url: str
    sinks: SinkAddresses
    _environment: dict[str, str]
    _local_nats: LocalNats | None
    _local_sinks: LocalSinks | None

    def database_url(self, service: str) -> str:
        """The SQLAlchemy URL of a service's own database, as the service signs in: as its own role."""
        return role_url(self.postgres.admin_url, registry.service(service).database, self._role_password(service))

    def _role_password(self, service: str) -> str:
        return kept_secret(self.data_dir / "postgres" / "roles" / service)

    @property
    def sinks_password_file(self) -> Path | None:
        """Where the password of our sinks' pages is (user athenaeum); None when the sinks are not ours."""
        return password_file(self._local_sinks.store_dir) if self._local_sinks is not None else None

    def endpoints(self) -> dict[str, str]:
        """What a human or a tool needs to talk to the mesh."""
        edge = {
            "web": f"{self.edge_url}/",  # the web client, served by the edge
            "rest": self.edge_url,
            "grpc": self.edge_grpc_target,
            "api docs": f"{self.edge_url}/docs",
            "admin": self.edge_admin_url,
        }
        outside = {"mail": self.sinks.mail_url, "smtp": self.sinks.smtp_address, "sms": self.sinks.sms_url}
        # Without their secrets: these are printed and recorded (the secrets are in files beside the data).
        stores = {"nats": without_secret(self.nats_url), "postgres": without_secret(self.postgres.shown_url)}
        metrics = components.metrics_endpoints(self.topology, self.services)
        return {**(edge if self.envoys else {}), **stores, **outside, **metrics}

    def service_environment(self) -> dict[str, str]:
        """What every service of this mesh is told besides the runtime's contract: where the sinks are, and
        the web client's address for links in messages (a reset link), which is this mesh's edge, and the
        `environment` it was made with (settings of the library, e.g. its branches, for this mesh alone). An
        ATHENAEUM_WEB_URL of the environment (a proxy in front of the edge) is kept; with our NATS, the CA its
        certificate is checked by."""
        web = {} if os.environ.get("ATHENAEUM_WEB_URL") else {"ATHENAEUM_WEB_URL": self.web_url}
        ca_file = self._local_nats.ca_file if self._local_nats is not None else None
        nats = {"ATHENAEUM_NATS_CA_FILE": str(ca_file)} if ca_file is not None else {}
        return {**self.sinks.service_environment(), **web, **nats, **self._environment}

    def nats_client_options(self) -> dict[str, Any]:
        """nats-py's options besides the URL for a client of this mesh's NATS (a bench's): TLS first, trusting the
        mesh CA, with our own NATS; none with a NATS of the caller's."""
        return self._local_nats.client_options() if self._local_nats is not None else {}

    @property
    def web_url(self) -> str:
        return f"http://localhost:{self.topology.edge_port}"
