"""Envoy configuration for the whole mesh, generated from the service registry.

`python -m services.support.mesh.envoy --write envoy/` regenerates the committed container configs
(docker-compose and Helm mount them); the local launcher and the tests write their own for a
`local_topology` at run time.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from services.support.mesh import registry
from services.support.mesh.envoy_common import Config
from services.support.mesh.envoy_edge import edge_config
from services.support.mesh.envoy_sds import sds_dir, sds_documents
from services.support.mesh.envoy_sidecar import allowed_principals, sidecar_config
from services.support.mesh.topology import Topology, container_topology

__all__ = [
    "CONTAINER_CERT_DIR",
    "CONTAINER_DESCRIPTOR_PATH",
    "CONTAINER_DOCS_DIR",
    "CONTAINER_WEB_ROOT",
    "all_configs",
    "allowed_principals",
    "committed_topology",
    "edge_config",
    "render",
    "sidecar_config",
    "write_configs",
    "write_sds_files",
]

HEADER = (
    "# Generated from services/support/mesh/registry.py by `python -m services.support.mesh.envoy` — do not edit.\n"
)
CONTAINER_CERT_DIR = Path("/etc/athenaeum/certs")
CONTAINER_DESCRIPTOR_PATH = Path("/etc/athenaeum/athenaeum.binpb")
CONTAINER_WEB_ROOT = Path("/etc/athenaeum/web")
CONTAINER_DOCS_DIR = Path("/etc/athenaeum/docs")


class _PlainDumper(yaml.SafeDumper):
    """Spells out repeated sub-dicts instead of YAML anchors, so a reader sees each block in place."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def render(config: Config) -> str:
    """The YAML text of one Envoy bootstrap config, with the generated-file header."""
    return HEADER + yaml.dump(config, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True)


def all_configs(topology: Topology) -> dict[str, Config]:
    """Every Envoy of the mesh: "edge" and one sidecar per service name."""
    configs = {registry.EDGE: edge_config(topology)}
    configs.update({spec.name: sidecar_config(spec.name, topology) for spec in registry.SERVICES})
    return configs


def write_configs(topology: Topology, out_dir: Path) -> dict[str, Path]:
    """Write edge.yaml and <service>.yaml into `out_dir`, with the SDS files they read their certificates
    through (envoy_sds: `out_dir` must be the topology's sds_dir where the Envoys run); returns the path of
    each bootstrap config."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, config in all_configs(topology).items():
        path = out_dir / f"{name}.yaml"
        path.write_text(render(config), encoding="utf-8")
        paths[name] = path
    write_sds_files(topology.cert_dir, out_dir)
    return paths


def write_sds_files(cert_dir: Path, out_dir: Path | None = None) -> None:
    """The SDS files of every identity for the certificates in `cert_dir` (into its sds_dir unless `out_dir`
    says where the Envoys will find them)."""
    target = out_dir or sds_dir(cert_dir)
    target.mkdir(parents=True, exist_ok=True)
    for name, document in sds_documents(cert_dir, registry.identities()).items():
        (target / name).write_text(render(document), encoding="utf-8")


def committed_topology() -> Topology:
    """The container placement the committed envoy/*.yaml files are generated for."""
    return container_topology(
        cert_dir=CONTAINER_CERT_DIR,
        descriptor_path=CONTAINER_DESCRIPTOR_PATH,
        web_root=CONTAINER_WEB_ROOT,
        docs_dir=CONTAINER_DOCS_DIR,
        cors_origins=registry.EDGE_CORS_ORIGINS,
    )


def main(argv: list[str] | None = None) -> None:
    """Write the container-topology configs into the given directory."""
    parser = argparse.ArgumentParser(prog="python -m services.support.mesh.envoy", description=main.__doc__)
    parser.add_argument("--write", type=Path, required=True, metavar="DIR", help="output directory (envoy/)")
    args = parser.parse_args(argv)
    for path in write_configs(committed_topology(), args.write).values():
        print(path)


if __name__ == "__main__":
    main()
