"""Traces: one whole trace by id, and trace search returning per-trace summaries.

Both start from ``tsdev_trace_summary``, one aggregated row per trace that a materialized view keeps as
spans arrive (schema migration 8), ordered by trace id. A trace lookup reads there the first and last
start time of the trace and its services, then reads spans only inside those bounds and services,
where the partition key, the primary key (service, then time) and the trace-id bloom filter leave a
handful of granules. Search finds matching trace ids newest first, then takes their summaries from
that table as they are, instead of aggregating every span of every trace found.
"""

# ruff: noqa: S608  # SQL is assembled from fixed fragments; every caller value is a bound {pN:Type}

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from tsdev.core.query._sql import (
    DEFAULT_LIMITS,
    Params,
    QueryLimits,
    checked_value,
    normalize_trace_id,
    page_size,
    run,
)
from tsdev.core.query.cursor import Cursor
from tsdev.core.query.errors import InvalidParameterError
from tsdev.core.query.timeparse import TimeRange
from tsdev.core.store import Store
from tsdev.core.store.tables import TRACE_SUMMARY, TRACES

StatusFilter = Literal["error", "ok"]


@dataclass(frozen=True)
class SpanEvent:
    time_ns: int
    name: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class SpanLink:
    trace_id: str
    span_id: str
    trace_state: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class Span:
    trace_id: str
    span_id: str
    parent_span_id: str
    trace_state: str
    name: str
    kind: str
    service_name: str
    start_ns: int
    duration_ns: int
    status_code: str
    status_message: str
    scope_name: str
    scope_version: str
    resource_attributes: dict[str, str]
    attributes: dict[str, str]
    events: list[SpanEvent]
    links: list[SpanLink]


@dataclass(frozen=True)
class Trace:
    trace_id: str
    spans: list[Span]
    truncated: bool = False


@dataclass(frozen=True)
class TraceSummary:
    trace_id: str
    root_service: str
    root_operation: str
    start_ns: int
    duration_ns: int
    span_count: int
    error_count: int
    services: list[str]


@dataclass(frozen=True)
class TraceQuery:
    """Every filter applies to one span: a trace matches when one of its spans passes them all."""

    time_range: TimeRange
    service: str | None = None
    operation: str | None = None
    span_kind: str | None = None
    status: StatusFilter | None = None
    min_duration_ns: int | None = None
    max_duration_ns: int | None = None
    attributes: list[tuple[str, str]] = field(default_factory=list)
    resource_attributes: list[tuple[str, str]] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)
    """Equality on a span attribute or, failing that, a resource attribute (Jaeger's tags)."""
    status_code: str | None = None
    text: str | None = None
    limit: int = 20
    cursor: Cursor | None = None


@dataclass(frozen=True)
class TracePage:
    traces: list[TraceSummary]
    next_cursor: str | None


_SPAN_COLUMNS = """
    TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName,
    toUnixTimestamp64Nano(Timestamp), Duration, StatusCode, StatusMessage, ScopeName, ScopeVersion,
    ResourceAttributes, SpanAttributes,
    arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp), Events.Name, Events.Attributes,
    Links.TraceId, Links.SpanId, Links.TraceState, Links.Attributes"""


def _span(row: tuple[Any, ...]) -> Span:
    (trace_id, span_id, parent, state, name, kind, service, start, duration, status, message,
     scope, scope_version, resource, attributes, ev_times, ev_names, ev_attrs,
     link_traces, link_spans, link_states, link_attrs) = row  # fmt: skip
    return Span(
        trace_id=trace_id, span_id=span_id, parent_span_id=parent, trace_state=state, name=name,
        kind=kind, service_name=service, start_ns=int(start), duration_ns=int(duration),
        status_code=status, status_message=message, scope_name=scope, scope_version=scope_version,
        resource_attributes=dict(resource), attributes=dict(attributes),
        events=[SpanEvent(int(t), n, dict(a)) for t, n, a in zip(ev_times, ev_names, ev_attrs, strict=True)],
        links=[
            SpanLink(t, s, st, dict(a))
            for t, s, st, a in zip(link_traces, link_spans, link_states, link_attrs, strict=True)
        ],
    )  # fmt: skip


@dataclass(frozen=True)
class _Located:
    """Where the spans of some traces are: between two start times, in a few services."""

    first_ns: int
    last_ns: int
    services: list[str]

    def where(self, params: Params) -> str:
        """Bounds as literal values, so that the partition key, the min-max index and the primary key
        (service first, then time) narrow the read before the trace-id bloom filter."""
        return (
            f"Timestamp >= {params.nanos(self.first_ns)} AND Timestamp <= {params.nanos(self.last_ns)}"
            f" AND ServiceName IN {params.strings(self.services)}"
        )


def _locate(store: Store, trace_ids: list[str], limits: QueryLimits) -> _Located | None:
    """Bounds and services of ``trace_ids`` from the trace summary (one small granule per id, as it
    is ordered by trace id); ``None`` when none of them is stored."""
    params = Params()
    sql = f"""
        SELECT toUnixTimestamp64Nano(min(Start)), toUnixTimestamp64Nano(max(LastStart)),
               groupUniqArrayArray(Services), count()
        FROM {store.table(TRACE_SUMMARY)}
        WHERE TraceId IN {params.strings(trace_ids)}"""
    first, last, services, found = run(store, sql, params, limits)[0]
    return _Located(int(first), int(last), sorted(services)) if found else None


# The spans are read from the projection ordered by trace id (migration 9), one granule per trace.
# With a row limit set, the engine also runs the table's skip indexes first (the trace-id bloom
# filter over every granule the time bounds keep), which the projection makes useless: measured at
# about 6 of 17 ms per lookup on 10M spans. Parts still without the projection (while its migration
# runs) are read by the primary key and time bounds alone.
_BY_TRACE_ID_SETTINGS = "use_skip_indexes = 0"


def get_trace(store: Store, trace_id: str, limits: QueryLimits = DEFAULT_LIMITS) -> Trace | None:
    """All spans of a trace in start order, or ``None`` when no span of it is stored."""
    found = get_traces(store, [trace_id], limits)
    return found[0] if found else None


def get_traces(store: Store, trace_ids: list[str], limits: QueryLimits = DEFAULT_LIMITS) -> list[Trace]:
    """The stored traces among ``trace_ids``, in that order, each cut at ``max_trace_spans``."""
    wanted = list(dict.fromkeys(normalize_trace_id(trace_id) for trace_id in trace_ids))
    if not wanted:
        return []
    located = _locate(store, wanted, limits)
    if located is None:
        return []
    params = Params()
    sql = f"""
        SELECT {_SPAN_COLUMNS}
        FROM {store.table(TRACES)}
        WHERE TraceId IN {params.strings(wanted)} AND {located.where(params)}
        ORDER BY TraceId, Timestamp, SpanId
        LIMIT {params.int64(limits.max_trace_spans + 1)} BY TraceId"""
    spans: dict[str, list[Span]] = {}
    for row in run(store, sql, params, limits, _BY_TRACE_ID_SETTINGS):
        spans.setdefault(row[0], []).append(_span(row))
    return [
        Trace(trace_id, found[: limits.max_trace_spans], len(found) > limits.max_trace_spans)
        for trace_id in wanted
        if (found := spans.get(trace_id))
    ]


def _span_filters(query: TraceQuery, params: Params) -> list[str]:
    where = [
        f"Timestamp >= {params.nanos(query.time_range.start_ns)}",
        f"Timestamp < {params.nanos(query.time_range.end_ns)}",
    ]
    if query.service:
        where.append(f"ServiceName = {params.string(checked_value(query.service, 'service'))}")
    if query.operation:
        where.append(f"SpanName = {params.string(checked_value(query.operation, 'operation'))}")
    if query.span_kind:
        where.append(f"SpanKind = {params.string(query.span_kind)}")
    if query.status == "error":
        where.append("StatusCode = 'Error'")
    elif query.status == "ok":
        where.append("StatusCode != 'Error'")
    if query.min_duration_ns is not None:
        where.append(f"Duration >= {params.int64(query.min_duration_ns)}")
    if query.max_duration_ns is not None:
        where.append(f"Duration <= {params.int64(query.max_duration_ns)}")
    for key, value in query.attributes:
        where.append(f"SpanAttributes[{params.string(key)}] = {params.string(value)}")
    for key, value in query.resource_attributes:
        where.append(f"ResourceAttributes[{params.string(key)}] = {params.string(value)}")
    for key, value in query.tags:
        k, v = params.string(key), params.string(value)
        where.append(f"(SpanAttributes[{k}] = {v} OR ResourceAttributes[{k}] = {v})")
    if query.status_code:
        where.append(f"StatusCode = {params.string(query.status_code)}")
    if query.text:
        where.append(
            f"positionCaseInsensitiveUTF8(SpanName, {params.string(checked_value(query.text, 'q'))}) > 0"
        )
    return where


def search_traces(store: Store, query: TraceQuery, limits: QueryLimits = DEFAULT_LIMITS) -> TracePage:
    """Summaries of the traces with a span matching ``query``, newest trace first."""
    size = page_size(query.limit, "limit", limits)
    if (
        query.min_duration_ns is not None
        and query.max_duration_ns is not None
        and query.min_duration_ns > query.max_duration_ns
    ):
        raise InvalidParameterError("min_duration", "must not exceed max_duration")
    params = Params()
    where = _span_filters(query, params)
    having = ""
    if query.cursor is not None:
        having = (
            f"HAVING (first_ns, TraceId) < ({params.int64(query.cursor.time_ns)},"
            f" {params.string(query.cursor.tiebreak)})"
        )
        where.append(f"Timestamp <= {params.nanos(query.cursor.time_ns)}")
    sql = f"""
        SELECT TraceId, toUnixTimestamp64Nano(min(Timestamp)) AS first_ns
        FROM {store.table(TRACES)}
        WHERE {" AND ".join(where)}
        GROUP BY TraceId
        {having}
        ORDER BY first_ns DESC, TraceId DESC
        LIMIT {params.int64(size + 1)}"""
    matches = run(store, sql, params, limits)
    page, more = matches[:size], len(matches) > size
    summaries = summarize_traces(store, [trace_id for trace_id, _ in page], limits)
    ordered = [summaries[trace_id] for trace_id, _ in page if trace_id in summaries]
    next_cursor = Cursor(int(page[-1][1]), page[-1][0]).encode() if more and page else None
    return TracePage(ordered, next_cursor)


def summarize_traces(
    store: Store, trace_ids: list[str], limits: QueryLimits = DEFAULT_LIMITS
) -> dict[str, TraceSummary]:
    """Root, timing, size and error count of each trace in ``trace_ids``."""
    if not trace_ids:
        return {}
    params = Params()
    sql = f"""
        SELECT
            TraceId,
            toUnixTimestamp64Nano(min(Start)) AS start_ns,
            max(EndNs) - start_ns,
            sum(SpanCount),
            sum(ErrorCount),
            arraySort(groupUniqArrayArray(Services)),
            argMinMerge(Root)
        FROM {store.table(TRACE_SUMMARY)}
        WHERE TraceId IN {params.strings(trace_ids)}
        GROUP BY TraceId"""
    rows = run(store, sql, params, limits)
    return {
        row[0]: TraceSummary(
            trace_id=row[0],
            start_ns=int(row[1]),
            duration_ns=int(row[2]),
            span_count=int(row[3]),
            error_count=int(row[4]),
            services=list(row[5]),
            root_service=row[6][0],
            root_operation=row[6][1],
        )
        for row in rows
    }
