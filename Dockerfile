# syntax=docker/dockerfile:1
# One tsdev image; the role is the command: `serve` (receivers and API), `worker`, `beat`, `analyze`, ...
# The `shop` target adds the demo app and its OpenTelemetry instrumentations on top of the same install.
#
# The install is the README's: uv from PyPI, then `uv sync --frozen` from uv.lock (tests/examples/
# test_compose.py checks that these steps stay the same as the Makefile's `sync`).

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1 UV_PYTHON_DOWNLOADS=never PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m pip install --no-cache-dir uv
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
COPY core core
COPY ingest ingest
COPY analysis analysis
COPY advisor advisor
COPY platform platform
COPY src src
RUN uv sync --frozen --no-dev --no-editable

FROM build AS build-shop
RUN uv sync --frozen --no-editable --no-default-groups --group dev --inexact

FROM python:${PYTHON_VERSION}-slim AS runtime
RUN groupadd --system --gid 10001 tsdev \
    && useradd --system --uid 10001 --gid tsdev --home-dir /var/lib/tsdev --create-home tsdev
COPY --from=build /src/.venv /opt/tsdev
ENV PATH=/opt/tsdev/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TSDEV_HOST=0.0.0.0 \
    TSDEV_DATA_DIR=/var/lib/tsdev
USER tsdev
WORKDIR /var/lib/tsdev
VOLUME ["/var/lib/tsdev"]
EXPOSE 4317 4318 8080
# `serve` answers /healthz on the API port; other roles override this in docker-compose.yml.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('TSDEV_API_PORT', '8080'), timeout=2)"]
ENTRYPOINT ["tsdev"]
CMD ["serve"]

FROM runtime AS shop
COPY --from=build-shop /src/.venv /opt/tsdev
COPY --chown=tsdev:tsdev examples/shop /opt/shop
WORKDIR /opt/shop
ENV SHOP_HOST=0.0.0.0
EXPOSE 8000 8001
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('SHOP_PORT', '8000'), timeout=2)"]
ENTRYPOINT ["python", "-m", "shop"]
CMD ["serve"]

# The default target: `docker build .` gives the tsdev image.
FROM runtime AS tsdev
