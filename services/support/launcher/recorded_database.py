"""Which Postgres the operator commands that work on a database (`athenaeum migrate`, `athenaeum users …`,
`athenaeum loans …`) use when none is named: that of the mesh `up` runs from the data folder, as `catalog
import` and `events tail` find its edge. Its socket's folder and port are recorded in the folder's launcher
state, and the superuser's and each service's password are kept beside it; a URL given explicitly wins.
Never its loopback port: whoever holds that port (while the server restarts) would be handed the password."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from services.support.launcher.postgres import socket_url
from services.support.launcher.state import read_state, running_launcher
from services.support.mesh import registry

NAMED = ("ATHENAEUM_DATABASE_URL", "ATHENAEUM_DATABASE_URL_FILE")
"""The settings that name a database explicitly (then nothing recorded is used)."""


@dataclass(frozen=True, slots=True)
class RecordedPostgres:
    """The bundled Postgres of a running mesh: its socket (folder and port) and where its passwords are."""

    port: int
    password_file: Path
    socket_dir: Path

    def admin_url(self) -> str:
        """The superuser's URL through the socket (with the password kept in `password_file`)."""
        return socket_url(self.password_file.read_text().strip(), self.socket_dir, self.port)

    def role_password_template(self) -> str:
        """Each service's own password file, for `migrate --role-passwords` (kept by `up`)."""
        return str(self.password_file.parent / "roles" / "{service}")

    def service_url(self, service: str) -> str:
        """The URL a service's operator command signs in with (as the service's own role; no password in it:
        that comes from the role's file, ATHENAEUM_DATABASE_PASSWORD_FILE)."""
        database = registry.service(service).database
        return socket_url(None, self.socket_dir, self.port, username=database, database=database)

    def service_environment(self, service: str) -> dict[str, str]:
        """The settings a service's operator command needs to reach its database on this server."""
        return {
            "ATHENAEUM_DATABASE_URL": self.service_url(service),
            "ATHENAEUM_DATABASE_PASSWORD_FILE": self.role_password_template().replace("{service}", service),
        }


def recorded_postgres(data_dir: Path) -> RecordedPostgres | None:
    """The Postgres of the mesh running from `data_dir`; None when none runs there, or it uses a server of
    yours (`up --database-url`), whose URL only you know."""
    state = read_state(data_dir)
    if state is None or running_launcher(data_dir) is None:
        return None
    entry = next((e for e in state.get("processes", []) if e.get("role") == "postgres"), None)
    if entry is None or not {"port", "password_file", "socket_dir"} <= entry.keys():
        return None  # no bundled Postgres, or one started by a launcher that recorded no socket: restart it
    return RecordedPostgres(int(entry["port"]), Path(entry["password_file"]), Path(entry["socket_dir"]))


def service_database_environment(service: str, data_dir: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """What to add to the environment of `athenaeum <service> …` so it works on the recorded mesh's database:
    nothing when `environ` names a database, the service has none, or no mesh runs from `data_dir`."""
    if any(environ.get(name) for name in NAMED) or service not in {s.name for s in registry.SERVICES}:
        return {}
    postgres = recorded_postgres(data_dir)
    return postgres.service_environment(service) if postgres is not None else {}


def use_the_recorded_database(service: str) -> Callable[[], None]:
    """Set the environment of `athenaeum <service> …` (read by the service's settings, as when the mesh runs
    it) to the database of the mesh running from the data folder (ATHENAEUM_DATA_DIR, else the one `down`
    would stop); the way to put the environment back as it was, once the command is done (a command run in
    a process that goes on, as the tests run them, left the next code of that process on the mesh's database)."""
    from services.support.launcher.cli_options import found_data_dir

    named = os.environ.get("ATHENAEUM_DATA_DIR")
    data_dir = Path(named) if named else found_data_dir(None)
    added = service_database_environment(service, data_dir, os.environ)
    before = {name: os.environ.get(name) for name in added}
    os.environ.update(added)

    def put_back() -> None:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    return put_back
