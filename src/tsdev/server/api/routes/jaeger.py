"""Jaeger's query API under ``/jaeger``, so Grafana's Jaeger data source and the Jaeger UI work.

Point the data source at ``http://host:8080/jaeger``. The routes take the same bearer token as
``/api/v1`` when ``TSDEV_API_TOKENS`` is set: in Grafana add a custom HTTP header ``Authorization``
with the value ``Bearer <token>`` to the data source (Grafana sends configured headers on every
request). Answers and errors use Jaeger's ``{data, total, limit, offset, errors}`` envelope.

Search parameters are Jaeger's: ``start``/``end`` in microseconds since the epoch (or ``lookback``
such as ``1h`` when they are absent), ``minDuration``/``maxDuration`` as Go durations (``1.2ms``),
``tags`` as a JSON object of equalities (and Jaeger's older repeatable ``tag=key:value``).
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from tsdev.core.query import InvalidParameterError, TimeRange, normalize_trace_id, parse_duration
from tsdev.core.query import services as service_queries
from tsdev.core.query import traces as trace_queries
from tsdev.core.query.timeparse import now_ns
from tsdev.server.api.deps import StoreDep, require_token
from tsdev.server.api.schemas.jaeger import DependencyLink, Envelope, JaegerError, Operation, Trace, to_jaeger

router = APIRouter(prefix="/jaeger/api", tags=["jaeger"], dependencies=[Depends(require_token)])

US = 1000
MS = 1_000_000
DEFAULT_LOOKBACK_NS = 3600 * 1_000_000_000
DEFAULT_DEPENDENCY_LOOKBACK_MS = 24 * 3600 * 1000
SPAN_KINDS = {"server": "Server", "client": "Client", "internal": "Internal", "producer": "Producer",
              "consumer": "Consumer", "unspecified": "Unspecified", "": "Unspecified"}  # fmt: skip
STATUS_CODES = {"ERROR": "Error", "OK": "Ok", "UNSET": "Unset"}


def _jaeger_kind(kind: str) -> str:
    return "" if kind == "Unspecified" else kind.lower()


def _int(value: str | None, parameter: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise InvalidParameterError(parameter, f"{value!r} is not an integer") from exc


@router.get("/services", summary="Names of every service with spans", response_model=Envelope[list[str]])
def services(store: StoreDep) -> Envelope[list[str]]:
    names = service_queries.service_names(store)
    return Envelope(data=names, total=len(names))


@router.get(
    "/services/{service}/operations", summary="Span names of a service", response_model=Envelope[list[str]]
)
def service_operations(store: StoreDep, service: str) -> Envelope[list[str]]:
    names = sorted({op.name for op in service_queries.list_operations(store, service)})
    return Envelope(data=names, total=len(names))


@router.get(
    "/operations",
    summary="Operations of a service with their span kind",
    response_model=Envelope[list[Operation]],
)
def operations(
    store: StoreDep,
    service: Annotated[str, Query(description="Service name")],
    span_kind: Annotated[str | None, Query(alias="spanKind", description="server, client, ...")] = None,
) -> Envelope[list[Operation]]:
    kind = None
    if span_kind:
        if span_kind.lower() not in SPAN_KINDS:
            raise InvalidParameterError("spanKind", f"one of {', '.join(k for k in SPAN_KINDS if k)}")
        kind = SPAN_KINDS[span_kind.lower()]
    found = service_queries.list_operations(store, service, span_kind=kind)
    data = [Operation(name=op.name, spanKind=_jaeger_kind(op.span_kind)) for op in found]
    return Envelope(data=data, total=len(data))


def _tag_filters(tags: str | None, tag: list[str]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    if tags:
        try:
            parsed = json.loads(tags)
        except ValueError as exc:
            raise InvalidParameterError("tags", "not a JSON object of tag names to values") from exc
        if not isinstance(parsed, dict):
            raise InvalidParameterError("tags", "not a JSON object of tag names to values")
        for key, value in parsed.items():
            text = json.dumps(value) if isinstance(value, bool) else str(value)
            pairs.append((str(key), text))
    for item in tag:
        key, sep, value = item.partition(":")
        if not sep or not key:
            raise InvalidParameterError("tag", f"{item!r} is not key:value")
        pairs.append((key, value))
    return pairs


def _search_query(
    service: str, operation: str | None, pairs: list[tuple[str, str]], time_range: TimeRange,
    min_duration: str | None, max_duration: str | None, limit: int,
) -> trace_queries.TraceQuery:  # fmt: skip
    """Jaeger tags, mapped: the tags tsdev derives from columns filter on those columns."""
    attributes: list[tuple[str, str]] = []
    status: trace_queries.StatusFilter | None = None
    status_code = span_kind = None
    for key, value in pairs:
        if key == "error" and value in ("true", "false"):
            status = "error" if value == "true" else "ok"
        elif key == "otel.status_code" and value.upper() in STATUS_CODES:
            status_code = STATUS_CODES[value.upper()]
        elif key == "span.kind" and value.lower() in SPAN_KINDS:
            span_kind = SPAN_KINDS[value.lower()]
        else:
            attributes.append((key, value))
    return trace_queries.TraceQuery(
        time_range=time_range, service=service, operation=operation or None, span_kind=span_kind,
        status=status, status_code=status_code, tags=attributes,
        min_duration_ns=parse_duration(min_duration, "minDuration") if min_duration else None,
        max_duration_ns=parse_duration(max_duration, "maxDuration") if max_duration else None,
        limit=limit,
    )  # fmt: skip


@router.get(
    "/traces", summary="Find traces; whole traces, newest first", response_model=Envelope[list[Trace]]
)
def find_traces(
    store: StoreDep,
    service: Annotated[str | None, Query(description="Required unless traceID is given")] = None,
    operation: Annotated[str | None, Query()] = None,
    tags: Annotated[str | None, Query(description='JSON object, e.g. {"http.status_code":"500"}')] = None,
    tag: Annotated[list[str], Query(description="key:value, repeatable")] = [],  # noqa: B006
    start: Annotated[str | None, Query(description="Microseconds since the epoch")] = None,
    end: Annotated[str | None, Query(description="Microseconds since the epoch")] = None,
    lookback: Annotated[str | None, Query(description="Used when start is absent: 1h, 2d")] = None,
    min_duration: Annotated[str | None, Query(alias="minDuration", description="Go duration: 1.2ms")] = None,
    max_duration: Annotated[str | None, Query(alias="maxDuration", description="Go duration: 2s")] = None,
    limit: Annotated[str | None, Query(description="Most traces to return; default 20")] = None,
    trace_id: Annotated[list[str], Query(alias="traceID", description="Fetch these traces")] = [],  # noqa: B006
) -> Envelope[list[Trace]]:
    if trace_id:
        ids = [normalize_trace_id(value, "traceID") for value in trace_id]
        return Envelope(data=[to_jaeger(t) for t in trace_queries.get_traces(store, ids)])
    if not service:
        raise InvalidParameterError("service", "parameter 'service' is required")
    size = _int(limit, "limit") or 20
    end_ns = (_int(end, "end") or now_ns() // US) * US
    start_us = _int(start, "start")
    if start_us is not None:
        start_ns = start_us * US
    else:
        lookback_ns = DEFAULT_LOOKBACK_NS
        if lookback and lookback != "custom":
            lookback_ns = parse_duration(lookback, "lookback")
        start_ns = end_ns - lookback_ns
    if size < 1:
        raise InvalidParameterError("limit", "must be at least 1")
    time_range = TimeRange.checked(start_ns, end_ns + US, "start")
    query = _search_query(
        service, operation, _tag_filters(tags, tag), time_range, min_duration, max_duration, min(size, 1000)
    )
    page = trace_queries.search_traces(store, query)
    found = [to_jaeger(t) for t in trace_queries.get_traces(store, [s.trace_id for s in page.traces])]
    return Envelope(data=found)


@router.get(
    "/traces/{trace_id}",
    summary="One whole trace",
    response_model=Envelope[list[Trace]],
    responses={404: {"model": Envelope[None], "description": "trace not found"}},
)
def get_trace(store: StoreDep, trace_id: str) -> Envelope[list[Trace]] | JSONResponse:
    trace = trace_queries.get_trace(store, normalize_trace_id(trace_id, "traceID"))
    if trace is None:
        body = Envelope[None](data=None, errors=[JaegerError(code=404, msg="trace not found")])
        return JSONResponse(body.model_dump(), status_code=404)
    return Envelope(data=[to_jaeger(trace)])


@router.get("/dependencies", summary="Calls between services", response_model=Envelope[list[DependencyLink]])
def dependencies(
    store: StoreDep,
    end_ts: Annotated[
        str | None, Query(alias="endTs", description="Milliseconds since the epoch; default now")
    ] = None,
    lookback: Annotated[str | None, Query(description="Milliseconds before endTs; default 24h")] = None,
) -> Envelope[list[DependencyLink]]:
    end_ms = _int(end_ts, "endTs") or now_ns() // MS
    lookback_ms = _int(lookback, "lookback") or DEFAULT_DEPENDENCY_LOOKBACK_MS
    if lookback_ms <= 0:
        raise InvalidParameterError("lookback", "must be positive")
    time_range = TimeRange.checked((end_ms - lookback_ms) * MS, end_ms * MS, "lookback")
    links = [
        DependencyLink(parent=d.parent, child=d.child, callCount=d.call_count)
        for d in service_queries.dependencies(store, time_range)
    ]
    return Envelope(data=links)
