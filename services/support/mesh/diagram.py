"""The README's architecture chart (mermaid), drawn from the registry: who the edge calls, which service calls
which through its sidecar, who publishes to JetStream and who reads from it. A test keeps the README's copy
equal to it; print it with `python -m services.support.mesh.diagram` after changing the registry."""

from __future__ import annotations

from collections.abc import Callable

from services.support.mesh import registry
from services.support.runtime.identity import EDGE

_HEAD = """flowchart LR
    client[REST / gRPC clients<br/>grpcurl, apps] -->|HTTP/1.1 JSON or h2 gRPC| edge
    subgraph mesh[one host: athenaeum up · a pod per service in Kubernetes]
      edge[Edge Envoy<br/>grpc_json_transcoder]"""


def _app(name: str) -> str:
    return f"{name[0]}app"


def _sidecar(name: str) -> str:
    return f"{name[0]}sc"


def _both(names: list[str], node: Callable[[str], str]) -> str:
    return " & ".join(node(name) for name in names)


def architecture_mermaid() -> str:
    """The chart, one line per edge of the graph, in the registry's order."""
    services = [spec.name for spec in registry.SERVICES]
    if len({name[0] for name in services}) != len(services):
        raise ValueError("two services share an initial: give the chart's nodes longer ids")
    lines = [_HEAD]
    from_edge = [spec.name for spec in registry.SERVICES if EDGE in spec.callers]
    lines.append(f"      edge -->|mTLS, identity spiffe://athenaeum/edge| {_both(from_edge, _sidecar)}")
    for name in services:
        lines += [
            f"      subgraph {name}[{name}]",
            f"        {_sidecar(name)}[sidecar: mTLS + RBAC] --> {_app(name)}[{name} grpc.aio]",
            "      end",
        ]
    for caller in services:
        called = [spec.name for spec in registry.SERVICES if caller in spec.callers]
        if called:
            lines.append(f"      {_app(caller)} -.->|via its sidecar's outbound listener| {_both(called, _sidecar)}")
    lines.append(f"      {_both(services, _app)} --> pg[(PostgreSQL<br/>a database and a role per service)]")
    read = {context for spec in registry.SERVICES for context in spec.reads}
    publishers = [name for name in services if name in read]
    lines.append(f"      {_both(publishers, _app)} -->|outbox relay, Nats-Msg-Id = event id| js[(NATS JetStream)]")
    for spec in registry.SERVICES:
        for _, subject in spec.streams:
            lines.append(f"      {_app(spec.name)} -->|{subject}| js")
    readers = [spec.name for spec in registry.SERVICES if spec.reads]
    lines.append(f"      js -->|the contexts' events each reads| {_both(readers, _app)}")
    lines.append("    end")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(architecture_mermaid(), end="")
