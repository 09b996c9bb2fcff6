"""The HTTP API on port 8080: health and self-metrics, and the versioned ``/api/v1``."""

from __future__ import annotations

from importlib.metadata import version

from fastapi import APIRouter, Depends, FastAPI

from tsdev.server.api.deps import require_token
from tsdev.server.api.errors import install_error_handlers
from tsdev.server.api.routes import (
    advisor,
    findings,
    forecasts,
    health,
    jaeger,
    logs,
    metrics,
    scaling,
    services,
    traces,
)
from tsdev.server.runtime import Runtime

API_V1 = "/api/v1"


def _app(runtime: Runtime, title: str, description: str) -> FastAPI:
    """An app with health, readiness, version and self-metrics, and the API's error format."""
    app = FastAPI(title=title, version=version("tsdev"), description=description)
    app.state.runtime = runtime
    app.include_router(health.router)
    install_error_handlers(app)
    return app


def create_health_api(runtime: Runtime) -> FastAPI:
    """Only health, readiness, version and self-metrics: what the API port serves in role ``ingest``,
    for probes and for scraping the receivers' metrics."""
    return _app(
        runtime, "tsdev (ingest)", "Health, readiness, version and self-metrics of an OTLP ingest replica."
    )


def create_api(runtime: Runtime) -> FastAPI:
    app = _app(runtime, "tsdev", "Search, findings, forecasts and scaling decisions over OpenTelemetry data.")
    v1 = APIRouter(prefix=API_V1, dependencies=[Depends(require_token)])
    for resource in (services, traces, logs, metrics, forecasts, scaling, findings, advisor):
        v1.include_router(resource.router)
    app.include_router(v1)
    app.include_router(jaeger.router)
    return app
