# syntax=docker/dockerfile:1
# The gateway image: dependencies installed from requirements.lock in a build stage, then only
# the virtual environment is copied into a slim runtime that runs as a non-root user.
#
#   docker build -t makepay-gateway .
#   docker run --rm makepay-gateway gateway migrate          # with DATABASE_URL etc. set
#   docker run -p 8000:8000 --env-file .env makepay-gateway
#
# See docs/operations.md for the environment variables and docker-compose.yml.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# Dependencies first, in their own layer: it is rebuilt only when the lock changes.
COPY pyproject.toml requirements.lock README.md ./
RUN uv venv /app/.venv && uv pip sync --python /app/.venv/bin/python requirements.lock
# Then the gateway itself, installed as a wheel (not editable): /src is not needed later.
COPY gateway ./gateway
RUN uv pip install --python /app/.venv/bin/python --no-deps .

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 gateway \
 && useradd --system --uid 10001 --gid gateway --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin gateway
# Owned by root and read-only to the gateway user: the process cannot modify its code.
COPY --from=build /app/.venv /app/.venv
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    LOG_JSON=true \
    PORT=8000 \
    WEB_CONCURRENCY=2 \
    SHUTDOWN_DRAIN_SECONDS=5 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/gateway-metrics
WORKDIR /app
USER gateway:gateway
EXPOSE 8000
# Liveness only (/healthz touches neither database nor Redis); load balancers should
# use /readyz, which fails while the database is unreachable or the process drains.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', timeout=2)"]
STOPSIGNAL SIGTERM
# Port from PORT, worker processes from WEB_CONCURRENCY.
CMD ["gateway", "serve", "--host", "0.0.0.0"]
