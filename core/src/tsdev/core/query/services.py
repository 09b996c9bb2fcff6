"""Services and operations with their rate, errors and latency (RED), and service dependencies.

Figures come from aggregates materialized views keep as spans arrive, never from the spans: per
minute, service, operation and span kind (``tsdev_service_red_1m``, schema migration 2), and rolled up
from it per service and span kind, per hour and per minute (migration 7). The services table reads
hourly rows for the whole hours of its range and minute rows only for the partial hours at its edges,
so a day costs about a thousand rows however many operations the services have, and the range is still
honoured to the minute. A service's figures count its server spans (the requests it answered); every
service that emitted any span in the range is listed.
"""

# ruff: noqa: S608  # SQL is assembled from fixed fragments; every caller value is a bound {pN:Type}

from __future__ import annotations

from dataclasses import dataclass

from tsdev.core.query._sql import DEFAULT_LIMITS, Params, QueryLimits, checked_value, run
from tsdev.core.query.timeparse import NS_PER_SECOND, TimeRange
from tsdev.core.store import Store
from tsdev.core.store.tables import TRACES

SERVICE_RED_1M = "tsdev_service_red_1m"
SERVICE_KIND_RED_1M = "tsdev_service_kind_red_1m"
SERVICE_KIND_RED_1H = "tsdev_service_kind_red_1h"
MINUTE, HOUR = 60, 3600
SPAN_KINDS = ("Server", "Client", "Internal", "Producer", "Consumer", "Unspecified")


@dataclass(frozen=True)
class RedFigures:
    requests: int
    errors: int
    error_rate: float
    p50_ns: float
    p95_ns: float
    p99_ns: float


@dataclass(frozen=True)
class ServiceStats:
    name: str
    red: RedFigures


@dataclass(frozen=True)
class OperationStats:
    name: str
    span_kind: str
    red: RedFigures


@dataclass(frozen=True)
class Dependency:
    parent: str
    child: str
    call_count: int


def _red(requests: int, errors: int, quantiles: list[float]) -> RedFigures:
    p50, p95, p99 = (float(q) if requests else 0.0 for q in quantiles)
    return RedFigures(int(requests), int(errors), errors / requests if requests else 0.0, p50, p95, p99)


def _minutes(time_range: TimeRange, params: Params) -> str:
    start = params.int64(time_range.start_ns // NS_PER_SECOND)
    end = params.int64(-(-time_range.end_ns // NS_PER_SECOND))
    return f"Minute >= toStartOfMinute(toDateTime({start})) AND Minute < toDateTime({end})"


def minute_span(time_range: TimeRange) -> tuple[int, int]:
    """The minutes ``[first, end)`` (Unix seconds) whose aggregates ``time_range`` covers: from the
    minute holding its start to the one holding its last second, as :func:`_minutes` selects them."""
    start_s = time_range.start_ns // NS_PER_SECOND
    end_s = -(-time_range.end_ns // NS_PER_SECOND)
    return start_s - start_s % MINUTE, -(-end_s // MINUTE) * MINUTE


def split_by_hour(first: int, end: int) -> tuple[tuple[int, int] | None, list[tuple[int, int]]]:
    """``[first, end)`` (Unix seconds, whole minutes) as the whole UTC hours inside it, if any, and the
    minute ranges left over at its edges."""
    first_hour, end_hour = -(-first // HOUR) * HOUR, end // HOUR * HOUR
    if first_hour >= end_hour:
        return None, [(first, end)] if first < end else []
    return (first_hour, end_hour), [(a, b) for a, b in ((first, first_hour), (end_hour, end)) if a < b]


def _between(column: str, bounds: tuple[int, int], params: Params) -> str:
    low, high = (params.int64(bound) for bound in bounds)
    return f"({column} >= toDateTime({low}) AND {column} < toDateTime({high}))"


def _service_kind_rows(store: Store, time_range: TimeRange, params: Params) -> str:
    """A subquery of per-service, per-kind aggregate rows covering ``time_range`` to the minute, or
    ``""`` when the range holds no minute."""
    hours, edges = split_by_hour(*minute_span(time_range))
    columns = "ServiceName, SpanKind, Requests, Errors, DurationQuantiles"
    parts = []
    if hours is not None:
        where = _between("Hour", hours, params)
        parts.append(f"SELECT {columns} FROM {store.table(SERVICE_KIND_RED_1H)} WHERE {where}")
    if edges:
        where = " OR ".join(_between("Minute", edge, params) for edge in edges)
        parts.append(f"SELECT {columns} FROM {store.table(SERVICE_KIND_RED_1M)} WHERE {where}")
    return " UNION ALL ".join(parts)


def list_services(
    store: Store, time_range: TimeRange, limits: QueryLimits = DEFAULT_LIMITS
) -> list[ServiceStats]:
    params = Params()
    rows = _service_kind_rows(store, time_range, params)
    if not rows:
        return []
    sql = f"""
        SELECT ServiceName, sumIf(Requests, SpanKind = 'Server') AS requests,
               sumIf(Errors, SpanKind = 'Server'),
               quantilesTDigestMergeIf(0.5, 0.95, 0.99)(DurationQuantiles, SpanKind = 'Server')
        FROM ({rows})
        GROUP BY ServiceName
        ORDER BY ServiceName"""
    return [ServiceStats(name, _red(req, err, q)) for name, req, err, q in run(store, sql, params, limits)]


def list_operations(
    store: Store,
    service: str,
    time_range: TimeRange | None = None,
    span_kind: str | None = None,
    limits: QueryLimits = DEFAULT_LIMITS,
) -> list[OperationStats]:
    """Operations of ``service`` per span kind; all time when ``time_range`` is ``None``."""
    params = Params()
    where = [f"ServiceName = {params.string(checked_value(service, 'service'))}"]
    if time_range is not None:
        where.append(_minutes(time_range, params))
    if span_kind is not None:
        where.append(f"SpanKind = {params.string(span_kind)}")
    sql = f"""
        SELECT SpanName, SpanKind, sum(Requests), sum(Errors),
               quantilesTDigestMerge(0.5, 0.95, 0.99)(DurationQuantiles)
        FROM {store.table(SERVICE_RED_1M)}
        WHERE {" AND ".join(where)}
        GROUP BY SpanName, SpanKind
        ORDER BY SpanName, SpanKind"""
    return [
        OperationStats(name, kind, _red(req, err, q))
        for name, kind, req, err, q in run(store, sql, params, limits)
    ]


def service_names(store: Store, limits: QueryLimits = DEFAULT_LIMITS) -> list[str]:
    """Every service with spans still retained."""
    sql = f"SELECT DISTINCT ServiceName FROM {store.table(SERVICE_RED_1M)} ORDER BY ServiceName"
    return [row[0] for row in run(store, sql, Params(), limits)]


def dependencies(
    store: Store, time_range: TimeRange, limits: QueryLimits = DEFAULT_LIMITS
) -> list[Dependency]:
    """Calls between services: a span whose parent span belongs to another service is one call.

    Only spans that start a unit of work in a service (server and consumer spans, or spans whose
    parent is in another service) can be such children, so the join reads parents just for them."""
    params = Params()
    start, end = params.nanos(time_range.start_ns), params.nanos(time_range.end_ns)
    table = store.table(TRACES)
    sql = f"""
        WITH children AS (
            SELECT TraceId, ParentSpanId, ServiceName
            FROM {table}
            WHERE Timestamp >= {start} AND Timestamp < {end} AND ParentSpanId != ''
              AND SpanKind IN ('Server', 'Consumer')
        )
        SELECT parent.ServiceName, children.ServiceName, count()
        FROM children
        INNER JOIN (
            SELECT TraceId, SpanId, ServiceName
            FROM {table}
            WHERE Timestamp >= {start} - INTERVAL 1 HOUR AND Timestamp < {end}
              AND (TraceId, SpanId) IN (SELECT TraceId, ParentSpanId FROM children)
        ) AS parent ON parent.TraceId = children.TraceId AND parent.SpanId = children.ParentSpanId
        WHERE parent.ServiceName != children.ServiceName
        GROUP BY parent.ServiceName, children.ServiceName
        ORDER BY parent.ServiceName, children.ServiceName"""
    return [Dependency(parent, child, int(count)) for parent, child, count in run(store, sql, params, limits)]
