"""``/api/v1/logs``: full-text log search and the live tail (Server-Sent Events)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from tsdev.core.query import Cursor, TimeRange, parse_attribute_filters
from tsdev.core.query import logs as queries
from tsdev.core.store import Store
from tsdev.server.api.deps import StoreDep
from tsdev.server.api.schemas.common import ERROR_RESPONSES, TIME_HELP
from tsdev.server.api.schemas.logs import LogRecord, LogSearchResult

router = APIRouter(prefix="/logs", tags=["logs"], responses=ERROR_RESPONSES)

POLL_INTERVAL_S = 0.5
"""How often the tail looks for new records; well inside the 2 s promised to clients."""
KEEPALIVE_S = 15.0
"""An SSE comment this often keeps proxies from closing an idle stream."""


def log_filters(
    q: Annotated[
        str | None, Query(description='Words and "quoted phrases" that must all occur in the body, any case')
    ] = None,
    service: Annotated[list[str], Query(description="Service name, repeatable (any of them)")] = [],  # noqa: B006
    severity: Annotated[
        str | None, Query(description="Minimum severity: trace, debug, info, warn, error, fatal or 1..24")
    ] = None,
    trace_id: Annotated[str | None, Query(description="Records of this trace")] = None,
    span_id: Annotated[str | None, Query(description="Records of this span")] = None,
    attr: Annotated[list[str], Query(description="Log attribute equality key=value, repeatable")] = [],  # noqa: B006
    resource_attr: Annotated[
        list[str], Query(description="Resource attribute equality key=value, repeatable")
    ] = [],  # noqa: B006
) -> queries.LogQuery:
    """The filters shared by search and tail, validated once (the time range is the caller's)."""
    return queries.LogQuery(
        time_range=TimeRange(0, 1),
        text=q,
        services=service,
        min_severity=queries.parse_severity(severity) if severity else None,
        trace_id=trace_id,
        span_id=span_id,
        attributes=parse_attribute_filters(attr, "attr"),
        resource_attributes=parse_attribute_filters(resource_attr, "resource_attr"),
    )


Filters = Annotated[queries.LogQuery, Depends(log_filters)]


@router.get("", summary="Search log records, newest first, with cursor pagination")
def search_logs(
    store: StoreDep,
    filters: Filters,
    start: Annotated[str | None, Query(description=f"{TIME_HELP}; default end - 1h")] = None,
    end: Annotated[str | None, Query(description=f"{TIME_HELP}; default now")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Records per page")] = 100,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> LogSearchResult:
    query = replace(
        filters, time_range=TimeRange.parse(start, end), limit=limit, cursor=Cursor.decode(cursor)
    )
    page = queries.search_logs(store, query)
    return LogSearchResult(records=[LogRecord.of(r) for r in page.records], next_cursor=page.next_cursor)


@router.get(
    "/stream",
    summary="Live tail: new matching records as Server-Sent Events",
    description=(
        "Each event is `event: log` with one LogRecord as JSON in `data`, sent within about a second of "
        "the record being stored. Records are those timestamped from the moment of connecting on; "
        "comments (`: keepalive`) are sent while nothing arrives."
    ),
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An endless event stream"}},
)
async def stream_logs(request: Request, store: StoreDep, filters: Filters) -> StreamingResponse:
    tail = queries.LogTail(store, filters)
    return StreamingResponse(
        _events(request, store, tail),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(request: Request, store: Store, tail: queries.LogTail) -> AsyncIterator[str]:
    yield ": connected\n\n"
    idle = 0.0
    while not await request.is_disconnected():
        records = await run_in_threadpool(tail.poll)
        for record in records:
            yield f"event: log\ndata: {json.dumps(LogRecord.of(record).model_dump())}\n\n"
        idle = 0.0 if records else idle + POLL_INTERVAL_S
        if idle >= KEEPALIVE_S:
            idle = 0.0
            yield ": keepalive\n\n"
        await asyncio.sleep(POLL_INTERVAL_S)
