"""Dependencies shared by the API routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from tsdev.core.store import Store
from tsdev.ingest.auth import token_allowed
from tsdev.server.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_store(request: Request) -> Store:
    return get_runtime(request).store


def require_token(request: Request) -> None:
    """401 unless auth is off or the request carries one of ``TSDEV_API_TOKENS``."""
    if not token_allowed(request.headers.get("authorization"), get_runtime(request).settings.api_tokens):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing or invalid bearer token", {"WWW-Authenticate": "Bearer"}
        )


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
StoreDep = Annotated[Store, Depends(get_store)]
