"""Bootstrap shared by every service: a grpc.aio server with health, reflection and the interceptor,
background tasks (outbox relay, consumers, health reporter), and a graceful SIGTERM drain."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc

from services.support.runtime import tracing
from services.support.runtime.access import api_service_names, policy_for
from services.support.runtime.admission import admission_of
from services.support.runtime.auth import AccessPolicy, RevocationFeed, RevocationList
from services.support.runtime.event_loop import run_on
from services.support.runtime.followers import Follower
from services.support.runtime.health import DependencyCheck, HealthReporter, once_passed
from services.support.runtime.heap import freeze_start_up, measure_pauses
from services.support.runtime.interceptors import RequestLog, ServerInterceptor
from services.support.runtime.messaging import NatsLink
from services.support.runtime.mutations import MutationInterceptor
from services.support.runtime.on_behalf import OnBehalfInterceptor
from services.support.runtime.probes import LIVENESS_SERVICE
from services.support.runtime.reflection import MethodAwareReflection
from services.support.runtime.request_ledger import RequestLedger
from services.support.runtime.settings import BaseServiceSettings
from services.support.runtime.telemetry import configure_logging, start_metrics_endpoint
from services.support.runtime.tracing import configure_tracing, shutdown_tracing

log = logging.getLogger("athenaeum.server")

Registration = Callable[[grpc.aio.Server], None]


class BackgroundTaskDied(RuntimeError):
    """A background task the process needs (relay, consumers, health reporter) ended with an error: the process
    stops, and exits with a failure so that its supervisor restarts it (or says why it cannot start)."""


@dataclass(frozen=True, slots=True)
class Served:
    """One gRPC service a process serves: its full name (which picks its access rules from the protos)
    and how to add its servicer to the server."""

    name: str
    register: Registration
    checked_by_servicer: frozenset[str] = frozenset()
    """Full names of methods (/package.Service/Method) whose requests skip the boundary check: see `served`."""


def served(
    descriptor: ServiceDescriptor,
    add: Callable[[Any, grpc.aio.Server], None],
    servicer: Any,
    *,
    checked_by_servicer: Iterable[str] = (),
) -> Served:
    """E.g. served(loans_pb2.DESCRIPTOR.services_by_name["LoansService"], add_…_to_server, LoansServicer(…)).

    `checked_by_servicer`: names of methods whose every request field the servicer's own rules check at
    least as strictly as the boundary check does, before anything of the request is kept (the service's
    tests must show it). Their requests are not checked twice: for a batch of a thousand events the
    boundary's pass is a quarter of the service's CPU. Undecodable requests are refused all the same."""
    methods = frozenset(f"/{descriptor.full_name}/{name}" for name in checked_by_servicer)
    unknown = {name for name in checked_by_servicer if name not in descriptor.methods_by_name}
    if unknown:
        raise ValueError(f"{descriptor.full_name} has no method {', '.join(sorted(unknown))}")
    return Served(descriptor.full_name, partial(add, servicer), methods)


@dataclass
class ServiceApp:
    """What a service's composition root hands to `serve`."""

    name: str
    settings: BaseServiceSettings
    services: Sequence[Served]
    health_checks: Sequence[DependencyCheck]
    """Readiness: what the service cannot answer without (its Postgres, its own needs)."""
    revocations: RevocationFeed | RevocationList | None = None
    """Where signed-out sessions are announced; None: this process honours no revocations. A RevocationList
    when the process revokes sessions itself (and so knows of them before the feed brings them back)."""
    nats: NatsLink | None = None
    """The process's NATS connection, for the revocation feed."""
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = ()
    closers: Sequence[Callable[[], Awaitable[None]]] = field(default_factory=list)
    requests: RequestLedger | None = None
    """Where request_ids are claimed and answers kept; None: request_ids are not deduplicated here."""
    messaging_checks: Sequence[DependencyCheck] = ()
    """NATS and the consumers: reported under MESSAGING_SERVICE, not readiness (the outbox rides NATS out)."""
    max_message_bytes: int | None = None
    """The largest request message read; None: gRPC's 4 MiB. Beyond it the transport refuses the call with a
    bare RESOURCE_EXHAUSTED before any handler sees it (nothing says what to do), so a service whose contract
    lets a message be larger reads it, and refuses it with its own rule."""


def mesh_channel(settings: BaseServiceSettings) -> grpc.aio.Channel:
    """Calls to peers leave through our sidecar's loopback listener, which adds our mTLS identity; each names
    the user it is made for, if any (the callee's audit events name them)."""
    if not tracing.recording():  # one interceptor: the trace context rides beside the user's name
        alone = cast(grpc.aio.ClientInterceptor, OnBehalfInterceptor(carry_trace=True))
        return grpc.aio.insecure_channel(settings.mesh_url, interceptors=[alone])
    on_behalf = cast(grpc.aio.ClientInterceptor, OnBehalfInterceptor())  # the stubs know no concrete interceptor
    return grpc.aio.insecure_channel(settings.mesh_url, interceptors=[*tracing.client_interceptors(), on_behalf])


def listen_address(settings: BaseServiceSettings) -> str:
    """gRPC's address for the service's listener: its Unix socket, or host:port without one."""
    return f"unix:{settings.socket}" if settings.socket else f"{settings.host}:{settings.port}"


async def serve(app: ServiceApp) -> None:
    settings = app.settings
    known = app.revocations
    revocations = known if isinstance(known, RevocationList) else RevocationList(known)
    follower = revocations.follower(app.nats) if app.nats is not None else None
    service_names = [service.name for service in app.services]
    policy = policy_for(service_names)
    # On a Unix socket in a folder only this user may enter, every connection comes from our sidecar, so the
    # caller identity and user claims it forwards are evidence; on a TCP port anyone local could forge them.
    trusted = bool(settings.socket)
    interceptor = ServerInterceptor(
        default_deadline_seconds=settings.default_deadline_seconds,
        trust_mesh_headers=trusted,
        checked_by_servicer=frozenset().union(*(service.checked_by_servicer for service in app.services)),
        # First of all, for calls from the edge: shedding load must cost next to nothing.
        admission=admission_of(settings),
        access=AccessPolicy(policy, revocations),
        # Last, inside the access check: only calls allowed to run claim a request_id, and the caller is known.
        mutations=MutationInterceptor(
            app.requests, policy=policy, work_budget_seconds=settings.mutation_budget_seconds
        ),
        request_log=RequestLog(
            sample_ratio=settings.request_log_sample_ratio, slow_seconds=settings.slow_request_log_seconds
        ),
    )
    options: list[tuple[str, int]] = [("grpc.so_reuseport", 0)]
    if app.max_message_bytes is not None:
        options.append(("grpc.max_receive_message_length", app.max_message_bytes))
    server = grpc.aio.server(options=options)
    registrar = cast(grpc.aio.Server, interceptor.registrar(server))  # every handler wrapped once, here
    for service in app.services:
        service.register(registrar)
    health_servicer = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, registrar)
    # The asyncio servicer by name: enable_server_reflection picks it only for a grpc.aio.Server instance,
    # and would give the registrar the synchronous one (a generator the asyncio server cannot run).
    health = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
    reflected = [*api_service_names(), health, reflection.SERVICE_NAME]
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(MethodAwareReflection(reflected), registrar)
    reporter = health_reporter(app, health_servicer, service_names, follower)
    address = listen_address(settings)
    server.add_insecure_port(address)
    start_metrics_endpoint(settings.metrics_host, settings.metrics_port)
    await reporter.starting()
    measure_pauses()
    freeze_start_up()  # last before serving: a full collection of start-up's heap was a call's worst pause
    await server.start()
    await health_servicer.set(LIVENESS_SERVICE, health_pb2.HealthCheckResponse.SERVING)
    jobs = (reporter.run, *([follower.run] if follower else []), *app.background)
    tasks = [asyncio.create_task(job(), name=_task_name(job)) for job in jobs]
    log.info("serving", extra={"service": app.name, "address": address})

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    died: list[asyncio.Task[None]] = []
    for task in tasks:
        task.add_done_callback(partial(_stop_if_crashed, stop, died))
    await stop.wait()
    crashed = list(died)  # before the drain: a task failing as it is cancelled is no reason to fail the exit

    log.info("draining", extra={"service": app.name})
    await reporter.shut_down()
    await server.stop(settings.shutdown_grace_seconds)  # in-flight calls finish; new ones are refused
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for close in app.closers:
        await close()
    log.info("stopped", extra={"service": app.name})
    if crashed:
        task = crashed[0]
        raise BackgroundTaskDied(f"background task {task.get_name()} died: {task.exception()}")


def health_reporter(
    app: ServiceApp, servicer: HealthServicer, service_names: Sequence[str], follower: Follower | None
) -> HealthReporter:
    """Readiness follows the app's health checks, and the revocation feed until it was first read (a process
    that never read it would let in sessions signed out before it started; one that did knows them all, and
    no new sign-out can reach anyone while NATS is away); the feed, NATS and consumers are messaging's."""
    return HealthReporter(
        servicer,
        service_names,
        [*app.health_checks, *([once_passed(follower.health.check)] if follower else [])],
        messaging=[*app.messaging_checks, *([follower.health.check] if follower else [])],
        interval=app.settings.health_check_interval_seconds,
    )


def _task_name(job: Callable[[], Awaitable[None]]) -> str:
    """A background job's name in logs: its function's, a `functools.partial`'s included."""
    return str(getattr(job, "__qualname__", None) or getattr(getattr(job, "func", None), "__qualname__", repr(job)))


def _stop_if_crashed(stop: asyncio.Event, died: list[asyncio.Task[None]], task: asyncio.Task[None]) -> None:
    """A background task that dies is a bug or a dependency that cannot serve us: stop (and be restarted) rather
    than limp on half-working."""
    if not task.cancelled() and task.exception() is not None:
        log.error("background task %s died", task.get_name(), exc_info=task.exception())
        died.append(task)
        stop.set()


def run(build: Callable[[], Awaitable[ServiceApp]], *, settings: BaseServiceSettings, name: str) -> None:
    """Entry point of every service's main(): configure logging, build the graph, serve until SIGTERM."""
    configure_logging(service=name, level=settings.log_level)
    tracer_provider = configure_tracing(service=name, settings=settings)

    async def main() -> None:
        await serve(await build())

    try:
        run_on(settings.event_loop, main())
    except BackgroundTaskDied as died:
        # Exit code 1, and the reason as the log's last line: a supervisor reads a crash, not a clean exit.
        raise SystemExit(f"{name}: {died}") from None
    finally:
        shutdown_tracing(tracer_provider)
