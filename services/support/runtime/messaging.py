"""NATS JetStream helpers: a resilient connection and the streams of each bounded context (consumers are in
runtime.consumers)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import ssl
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from services.support.runtime.retrying import retry_forever

log = logging.getLogger("athenaeum.messaging")

EVENT_TYPE_HEADER = "Athenaeum-Event-Type"
ACTOR_HEADER = "Athenaeum-Actor"
"""Who made the call that recorded an event (see outbox.actor_header): for the audit trail."""
# Long enough to cover a relay that crashed between publish and marking its rows published.
DUPLICATE_WINDOW_SECONDS = 15 * 60.0
CONTEXTS = ("users", "catalog", "loans", "notifications", "events")


def user_in(url: str) -> str:
    """The user a NATS URL (the first of a list) signs in as: "" for none, or for a token alone."""
    first = urllib.parse.urlsplit(url.split(",", 1)[0].strip())
    return first.username or "" if first.password is not None else ""


def tls_options(ca_file: Path | None, *, hostname: str = "") -> dict[str, Any]:
    """nats-py's options to speak TLS first and trust only a server whose certificate `ca_file` signed: the
    password goes to no one else. TLS first, not after the greeting: nats-py upgrades only when the greeting
    asks for it, and a stand-in on the port would not ask. No CA file: plain TCP, as a server without TLS
    needs (`hostname`: the name the certificate carries, when not the URL's host)."""
    if ca_file is None:
        return {}
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file))
    return {"tls": context, "tls_handshake_first": True, **({"tls_hostname": hostname} if hostname else {})}


def inbox_prefix(user: str) -> str:
    """Where the replies to a NATS user's requests come (the JetStream API's answers, fetched messages): its
    own, so that no other service's user may subscribe to them."""
    return f"_INBOX.{user}"


def subject(context: str, event: str) -> str:
    """Subjects read `athenaeum.<context>.<event>.v1`, e.g. athenaeum.loans.loan_issued.v1."""
    return f"athenaeum.{context}.{event}.v1"


def stream_name(context: str) -> str:
    return f"ATHENAEUM_{context.upper()}"


def stream_of(subject: str) -> str | None:
    """The stream a subject of the mesh's belongs to (a context's, or the dead letters'); None for another."""
    parts = subject.split(".")
    if len(parts) < 3 or parts[0] != "athenaeum":
        return None
    if parts[1] == "dlq":
        return str(DLQ_STREAM.name)
    return stream_name(parts[1]) if parts[1] in CONTEXTS else None


def stream_config(context: str, *, replicas: int = 1) -> StreamConfig:
    return StreamConfig(
        name=stream_name(context),
        subjects=[f"athenaeum.{context}.>"],
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        max_age=30 * 24 * 3600.0,
        num_replicas=replicas,
    )


DLQ_STREAM = StreamConfig(
    name="ATHENAEUM_DLQ", subjects=["athenaeum.dlq.>"], storage=StorageType.FILE, max_age=30 * 24 * 3600.0
)


class NatsLink:
    """One NATS connection per process that (re)connects in the background: a service starts, and reports
    NOT_SERVING, while NATS is away, instead of crashing."""

    def __init__(
        self,
        url: str,
        *,
        name: str,
        stream_replicas: int = 1,
        owner: str | None = None,
        user: str = "",
        password: str = "",
        ca_file: Path | None = None,
        tls_hostname: str = "",
    ) -> None:
        """`owner`: the context whose stream it may update (None: every stream, for tools and tests). `user`
        and `password` when the URL carries none; a password without a user is the server's token. The replies
        come to the inbox of the user it signs in as, given or in the URL (a service may read no other).
        `ca_file`: speak TLS, trusting the server whose certificate it signed (see tls_options)."""
        self._url = url
        self._owner = owner
        credentials: dict[str, object] = {"user": user, "password": password} if user else {"token": password or None}
        if signed_in_as := user or user_in(url):
            credentials["inbox_prefix"] = inbox_prefix(signed_in_as)
        self._credentials = credentials
        self._tls = tls_options(ca_file, hostname=tls_hostname)
        self._name = name
        self._stream_replicas = stream_replicas
        self._client: NatsClient | None = None
        self._connected = asyncio.Event()
        self.generation = 0
        """Counts (re)connections: a consumer that subscribed in an earlier generation subscribes again."""

    @property
    def is_connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    async def answers(self, *, within: float) -> bool:
        """Whether NATS and its JetStream answer a request within `within` seconds: a server that is connected but
        hung (stopped, a stalled disk) keeps `is_connected` true for minutes, until the client's pings fail.
        A request, not `flush()`: a flush that timed out leaves a cancelled future among the client's pongs,
        and the late PONG then ends the client's read loop."""
        if not self.is_connected:
            return False
        try:
            await self.client().jetstream(timeout=within).account_info()
        except Exception:
            return False
        return True

    async def wait_connected(self) -> None:
        await self._connected.wait()

    def jetstream(self) -> JetStreamContext:
        return self.client().jetstream()

    def client(self) -> NatsClient:
        """The connection itself, for core NATS (subscriptions that need no stream)."""
        if self._client is None:
            raise ConnectionError("NATS is not connected yet")
        return self._client

    async def run(self) -> None:
        """Connect and declare the streams, retrying until both work; nats-py reconnects by itself after."""
        self._client = await retry_forever(self._connect, what="NATS")
        self.generation += 1
        self._connected.set()

    async def _connect(self) -> NatsClient:
        client = await nats.connect(
            self._url,
            **self._credentials,
            **self._tls,
            name=self._name,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            connect_timeout=2,
            reconnected_cb=self._reconnected,
            disconnected_cb=self._disconnected,
        )
        try:
            await ensure_streams(client.jetstream(), replicas=self._stream_replicas, owner=self._owner)
        except BaseException:
            await client.close()
            raise
        return client

    async def _disconnected(self) -> None:
        log.warning("disconnected from NATS; reconnecting")

    async def _reconnected(self) -> None:
        """A restarted server may have lost its streams (a new data folder): declare them again, then let
        every consumer subscribe anew."""
        if self._client is not None:
            try:
                await ensure_streams(self._client.jetstream(), replicas=self._stream_replicas, owner=self._owner)
            except Exception as error:  # the consumers' next subscription attempt retries until it works
                log.warning("could not declare the streams after reconnecting: %s", error)
        self.generation += 1
        log.info("reconnected to NATS")

    async def close(self) -> None:
        if self._client is not None and not self._client.is_closed:
            await self._client.drain()


async def ensure_streams(js: JetStreamContext, *, replicas: int = 1, owner: str | None = None) -> None:
    """Declare every context's stream and the dead letters': `owner`'s (a context) added or updated to the
    current config, the others only added when missing (a consumer of another context's stream need not wait
    for its owner), for a service's NATS user may change no stream but its own (mesh/nats_auth.py). No owner
    (the operator's tools, tests): every stream added or updated."""
    if owner is not None and owner not in CONTEXTS:
        raise ValueError(f"{owner!r} is not a context with a stream")
    configs = [stream_config(context, replicas=replicas) for context in CONTEXTS]
    for config in (*configs, dataclasses.replace(DLQ_STREAM, num_replicas=replicas)):
        if owner is None or config.name == stream_name(owner):
            await _declare(js, config, update=True)
        else:
            with contextlib.suppress(BadRequestError):  # made meanwhile by another service, alike
                await _declare(js, config, update=False)


async def _declare(js: JetStreamContext, config: StreamConfig, *, update: bool) -> None:
    """Add the stream when missing; else, with `update`, bring it to `config`."""
    try:
        await js.stream_info(str(config.name))
    except NotFoundError:
        await js.add_stream(config)
        return
    if update:
        await js.update_stream(config)


@dataclass(frozen=True, slots=True)
class ConsumerSpec:
    stream: str
    durable: str
    filter_subject: str | tuple[str, ...]
    """The subject it reads (wildcards allowed), or several: a consumer that reads a few kinds of event of a
    stream is then neither handed the others nor counted behind while they wait for it."""
    max_deliver: int = 5
    ack_wait_seconds: float = 30.0
    batch: int = 64
    max_ack_pending: int = 1000
    linger_seconds: float = 0.0
    """After a fetch of fewer than `batch` messages, wait this long before the next: a trickle is then
    handled in fewer, larger fetches (one transaction each), at the price of that much delay. For work that
    may wait, e.g. the audit trail; 0 takes every message as soon as it comes."""

    @property
    def subjects(self) -> tuple[str, ...]:
        return (self.filter_subject,) if isinstance(self.filter_subject, str) else self.filter_subject
