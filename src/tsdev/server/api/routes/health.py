"""Liveness, readiness, version and Prometheus self-metrics; never behind a token."""

from __future__ import annotations

from importlib.metadata import version

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from tsdev.server.api.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The store answers and the writer runs", responses={503: {}})
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    store_ok = runtime.ready and await run_in_threadpool(runtime.store.ping)
    body = {"status": "ready" if store_ok else "not ready", "store": "ok" if store_ok else "unavailable"}
    return JSONResponse(body, status_code=200 if store_ok else 503)


@router.get("/version", summary="tsdev's version and schema version")
async def get_version(runtime: RuntimeDep) -> dict[str, object]:
    return {
        "version": version("tsdev"),
        "schema_version": await run_in_threadpool(runtime.store.schema_version),
        "embedded": runtime.store.is_embedded,
        "database": runtime.store.database,
    }


@router.get("/metrics", summary="Self-metrics in Prometheus text format", response_class=Response)
async def metrics(runtime: RuntimeDep) -> Response:
    return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)
