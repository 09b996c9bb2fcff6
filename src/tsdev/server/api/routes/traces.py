"""``/api/v1/traces``: search and whole traces."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status

from tsdev.core.query import Cursor, TimeRange, parse_attribute_filters, parse_duration
from tsdev.core.query import traces as queries
from tsdev.server.api.deps import StoreDep
from tsdev.server.api.schemas.common import ERROR_RESPONSES, TIME_HELP, ErrorResponse
from tsdev.server.api.schemas.traces import Trace, TraceSearchResult, TraceSummary

router = APIRouter(prefix="/traces", tags=["traces"], responses=ERROR_RESPONSES)

SpanKind = Literal["Server", "Client", "Internal", "Producer", "Consumer", "Unspecified"]


@router.get("", summary="Search traces; summaries newest first, with cursor pagination")
def search_traces(
    store: StoreDep,
    start: Annotated[str | None, Query(description=f"{TIME_HELP}; default end - 1h")] = None,
    end: Annotated[str | None, Query(description=f"{TIME_HELP}; default now")] = None,
    service: Annotated[str | None, Query(description="A span of this service")] = None,
    operation: Annotated[str | None, Query(description="A span with this name")] = None,
    span_kind: Annotated[SpanKind | None, Query(description="A span of this kind")] = None,
    status_: Annotated[
        Literal["error", "ok"] | None, Query(alias="status", description="error: a span with status Error")
    ] = None,
    min_duration: Annotated[
        str | None, Query(description="A span at least this long: 1.2ms, 500us, 2s")
    ] = None,
    max_duration: Annotated[str | None, Query(description="A span at most this long")] = None,
    attr: Annotated[list[str], Query(description="Span attribute equality key=value, repeatable")] = [],  # noqa: B006
    resource_attr: Annotated[
        list[str], Query(description="Resource attribute equality key=value, repeatable")
    ] = [],  # noqa: B006
    q: Annotated[str | None, Query(description="Text the span name contains, any case")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Traces per page")] = 20,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> TraceSearchResult:
    query = queries.TraceQuery(
        time_range=TimeRange.parse(start, end),
        service=service,
        operation=operation,
        span_kind=span_kind,
        status=status_,
        min_duration_ns=parse_duration(min_duration, "min_duration") if min_duration else None,
        max_duration_ns=parse_duration(max_duration, "max_duration") if max_duration else None,
        attributes=parse_attribute_filters(attr, "attr"),
        resource_attributes=parse_attribute_filters(resource_attr, "resource_attr"),
        text=q,
        limit=limit,
        cursor=Cursor.decode(cursor),
    )
    page = queries.search_traces(store, query)
    return TraceSearchResult(traces=[TraceSummary.of(t) for t in page.traces], next_cursor=page.next_cursor)


@router.get(
    "/{trace_id}",
    summary="A whole trace: every span with attributes, events, links and status",
    responses={404: {"model": ErrorResponse, "description": "No span of this trace is stored"}},
)
def get_trace(store: StoreDep, trace_id: str) -> Trace:
    trace = queries.get_trace(store, trace_id)
    if trace is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"trace {trace_id} not found")
    return Trace.of(trace)
