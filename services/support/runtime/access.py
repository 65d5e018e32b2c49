"""The mesh's access policy, read from the API itself: every RPC declares `option (athenaeum.api.v1.access)`.

One source of truth: each service's interceptor builds its table from the descriptors of the services it
serves, the sidecar generator asks which methods are for the mesh only, and the API reference which are
public. A method that declares nothing gets no rule, and the interceptor refuses it (fail closed).
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Iterable, Mapping
from types import MappingProxyType, ModuleType

from google.api import annotations_pb2
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor

from athenaeum.api.v1 import access_pb2
from services.support.runtime.identity import ADMINS, MESH_ONLY, PUBLIC, SIGNED_IN, STAFF, Rule, role_in

# Served by every process of the mesh (health probes, grpcurl's reflection): no user data behind them.
INFRASTRUCTURE: Mapping[str, Rule] = MappingProxyType(
    {
        "/grpc.health.v1.Health/Check": PUBLIC,
        "/grpc.health.v1.Health/Watch": PUBLIC,
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": PUBLIC,
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo": PUBLIC,
    }
)

_AUDIENCES: Mapping[int, Rule] = {
    access_pb2.AUDIENCE_PUBLIC: PUBLIC,
    access_pb2.AUDIENCE_MESH: MESH_ONLY,
    access_pb2.AUDIENCE_SIGNED_IN: SIGNED_IN,
    access_pb2.AUDIENCE_STAFF: role_in(STAFF),
    access_pb2.AUDIENCE_ADMIN: role_in(ADMINS),
}


def api_modules() -> list[ModuleType]:
    """Every generated module of the API, imported: their descriptors are then in the default pool."""
    import athenaeum

    return [
        importlib.import_module(module.name)
        for module in pkgutil.walk_packages(athenaeum.__path__, "athenaeum.")
        if module.name.endswith("_pb2")
    ]


def api_service_names() -> list[str]:
    """Every gRPC service of the mesh's API (reflection on any one service describes them all)."""
    return sorted(
        service.full_name for module in api_modules() for service in module.DESCRIPTOR.services_by_name.values()
    )


def service_descriptor(full_name: str) -> ServiceDescriptor:
    api_modules()  # the descriptors are in the default pool once their modules are imported
    return descriptor_pool.Default().FindServiceByName(full_name)


def method_path(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def rule_of(method: MethodDescriptor) -> Rule | None:
    """The method's declared rule; None when it declares none (nobody may call it)."""
    declared = method.GetOptions().Extensions[access_pb2.access]
    rule = _AUDIENCES.get(declared.audience)
    if rule is None:
        return None
    return dataclasses.replace(
        rule,
        self_field=declared.or_self,
        peers=declared.or_peers,
        reads=only_reads(method),
        withdraws=declared.or_restricted,
    )


def only_reads(method: MethodDescriptor) -> bool:
    """Whether the method is bound to GET alone (AIP: Get and List, which change nothing): what a restricted
    account may call. A method with no HTTP binding (a stream, a mesh call) counts as a change."""
    http = method.GetOptions().Extensions[annotations_pb2.http]
    bindings = [http, *http.additional_bindings]
    return all(binding.WhichOneof("pattern") == "get" for binding in bindings)


def policy_for(service_names: Iterable[str]) -> Mapping[str, Rule]:
    """The rule of every method of these services, plus the infrastructure every process serves."""
    policy = dict(INFRASTRUCTURE)
    for name in service_names:
        for method in service_descriptor(name).methods:
            rule = rule_of(method)
            if rule is not None:
                policy[method_path(method)] = rule
    return MappingProxyType(policy)


def mesh_only_methods(service_names: Iterable[str]) -> tuple[str, ...]:
    """gRPC paths only peers may call: the sidecars refuse them to the edge."""
    return tuple(path for path, rule in policy_for(service_names).items() if rule.mesh_only)
