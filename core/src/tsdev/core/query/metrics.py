"""Metric names and the series of one metric over time, aggregated per step and attribute group.

The metric's type is looked up first (the five ``otel_metrics_*`` tables hold different columns), and
the aggregation must suit it: ``rate`` only for monotonic sums, quantiles only for histograms. The SQL
aggregate functions come from fixed tables here; the metric name, attribute keys and values are bound
parameters, never spliced into the text.

Cumulative points are handled per series (one series is a service, resource and attribute set):
``rate`` sums the increases between consecutive points of each series in the step of the later point
(resets are treated as restarts from zero; a series' first point in the range adds nothing) and
histogram quantiles use the last cumulative distribution in each step, summed across series.
"""

# ruff: noqa: S608  # SQL is assembled from fixed fragments; every caller value is a bound {pN:Type}

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from tsdev.core.query._sql import DEFAULT_LIMITS, Params, QueryLimits, checked_value, run
from tsdev.core.query.errors import InvalidParameterError
from tsdev.core.query.timeparse import NS_PER_SECOND, TimeRange
from tsdev.core.store import Store
from tsdev.core.store.tables import (
    METRICS_EXP_HISTOGRAM,
    METRICS_GAUGE,
    METRICS_HISTOGRAM,
    METRICS_SUM,
    METRICS_SUMMARY,
)

MetricType = Literal["gauge", "sum", "histogram", "exp_histogram", "summary"]
Aggregation = Literal["sum", "avg", "min", "max", "count", "rate", "p50", "p90", "p95", "p99"]

TABLES: dict[MetricType, str] = {
    "gauge": METRICS_GAUGE,
    "sum": METRICS_SUM,
    "histogram": METRICS_HISTOGRAM,
    "exp_histogram": METRICS_EXP_HISTOGRAM,
    "summary": METRICS_SUMMARY,
}
_VALUE_AGGREGATES = {"sum": "sum", "avg": "avg", "min": "min", "max": "max", "count": "count"}
QUANTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}
AGGREGATIONS: dict[MetricType, tuple[str, ...]] = {
    "gauge": ("sum", "avg", "min", "max", "count"),
    "sum": ("sum", "avg", "min", "max", "count", "rate"),
    "histogram": ("avg", "count", "p50", "p90", "p95", "p99"),
    "exp_histogram": ("avg", "count"),
    "summary": ("avg", "count"),
}
MAX_POINTS = 11_000


@dataclass(frozen=True)
class MetricInfo:
    name: str
    type: MetricType
    unit: str
    description: str
    services: list[str]
    attribute_keys: list[str]


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    points: list[tuple[int, float]]


@dataclass(frozen=True)
class SeriesQuery:
    name: str
    time_range: TimeRange
    step_ns: int = 60 * NS_PER_SECOND
    aggregation: str = "avg"
    group_by: list[str] = field(default_factory=list)
    service: str | None = None
    attributes: list[tuple[str, str]] = field(default_factory=list)


def list_metrics(
    store: Store, time_range: TimeRange, service: str | None = None, limits: QueryLimits = DEFAULT_LIMITS
) -> list[MetricInfo]:
    """Every metric with points in the range, with its type, unit and the attribute keys seen."""
    params = Params()
    start, end = params.nanos(time_range.start_ns), params.nanos(time_range.end_ns)
    service_filter = (
        f" AND ServiceName = {params.string(checked_value(service, 'service'))}" if service else ""
    )
    selects = [
        f"""SELECT MetricName, '{kind}', any(MetricUnit), any(MetricDescription),
                   arraySort(groupUniqArray(ServiceName)),
                   arraySort(groupUniqArrayArray(mapKeys(Attributes)))
            FROM {store.table(table)}
            WHERE TimeUnix >= {start} AND TimeUnix < {end}{service_filter}
            GROUP BY MetricName"""
        for kind, table in TABLES.items()
    ]
    rows = run(store, " UNION ALL ".join(selects) + " ORDER BY 1, 2", params, limits)
    return [MetricInfo(row[0], row[1], row[2], row[3], list(row[4]), list(row[5])) for row in rows]


def metric_type(
    store: Store, name: str, time_range: TimeRange, limits: QueryLimits = DEFAULT_LIMITS
) -> MetricType:
    params = Params()
    bound = params.string(checked_value(name, "name"))
    start, end = params.nanos(time_range.start_ns), params.nanos(time_range.end_ns)
    selects = [
        f"SELECT '{kind}' FROM {store.table(table)} WHERE MetricName = {bound}"
        f" AND TimeUnix >= {start} AND TimeUnix < {end} LIMIT 1"
        for kind, table in TABLES.items()
    ]
    rows = run(store, " UNION ALL ".join(selects), params, limits)
    if not rows:
        raise LookupError(f"no metric named {name!r} has points in the time range")
    kind: MetricType = rows[0][0]
    return kind


def _label_expression(key: str, params: Params) -> str:
    if key == "service.name":
        return "ServiceName"
    bound = params.string(checked_value(key, "group_by"))
    return f"if(mapContains(Attributes, {bound}), Attributes[{bound}], ResourceAttributes[{bound}])"


def metric_series(store: Store, query: SeriesQuery, limits: QueryLimits = DEFAULT_LIMITS) -> list[Series]:
    """One series per distinct value of the ``group_by`` attributes, one point per step."""
    if query.step_ns < NS_PER_SECOND:
        raise InvalidParameterError("step", "must be at least 1s")
    span = query.time_range.end_ns - query.time_range.start_ns
    if span // query.step_ns > MAX_POINTS:
        raise InvalidParameterError(
            "step", f"too small for the range: more than {MAX_POINTS} points per series"
        )
    known = {name for names in AGGREGATIONS.values() for name in names}
    if query.aggregation not in known:
        raise InvalidParameterError("aggregation", f"one of {', '.join(sorted(known))}")
    kind = metric_type(store, query.name, query.time_range, limits)
    if query.aggregation not in AGGREGATIONS[kind]:
        allowed = ", ".join(AGGREGATIONS[kind])
        raise InvalidParameterError("aggregation", f"a {kind} metric supports {allowed}")
    params = Params()
    step = params.int64(query.step_ns)
    labels = "[" + ", ".join(_label_expression(key, params) for key in query.group_by) + "]"
    where = [
        f"MetricName = {params.string(query.name)}",
        f"TimeUnix >= {params.nanos(query.time_range.start_ns)}",
        f"TimeUnix < {params.nanos(query.time_range.end_ns)}",
    ]
    if query.service:
        where.append(f"ServiceName = {params.string(checked_value(query.service, 'service'))}")
    for key, value in query.attributes:
        where.append(f"Attributes[{params.string(key)}] = {params.string(value)}")
    source = f"""
        SELECT *, intDiv(toUnixTimestamp64Nano(TimeUnix), {step}) * {step} AS Bucket,
               CAST({labels}, 'Array(String)') AS Labels,
               cityHash64(ServiceName, ResourceAttributes, Attributes) AS SeriesKey
        FROM {store.table(TABLES[kind])}
        WHERE {" AND ".join(where)}"""
    if query.aggregation in QUANTILES:
        return _histogram_quantiles(store, source, params, query, limits)
    sql = _aggregate_sql(kind, query.aggregation, source, query.step_ns)
    rows = run(store, sql, params, limits)
    return _to_series(query.group_by, ((labels_, bucket, float(value)) for bucket, labels_, value in rows))


# Each point with the one before it in its series, over the whole range, so that the increase
# between two points is counted in the step of the later one even when they fall in different steps.
_WITH_PREVIOUS = """
    SELECT Bucket, Labels, AggregationTemporality, Value, StartTimeUnix,
           lagInFrame(Value) OVER series AS PreviousValue,
           lagInFrame(StartTimeUnix) OVER series AS PreviousStart,
           row_number() OVER series AS Position
    FROM ({source})
    WINDOW series AS (PARTITION BY SeriesKey ORDER BY TimeUnix ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)"""
# Delta points are increases already. A cumulative point adds its difference from the previous one;
# a lower value or a new start time is a reset, after which the value itself is the increase. The
# first point of a series in the range has nothing to be compared with and adds nothing.
_INCREASE = """
    multiIf(AggregationTemporality = 1, Value,
            Position = 1, 0,
            Value < PreviousValue OR StartTimeUnix != PreviousStart, Value,
            Value - PreviousValue)"""


def _aggregate_sql(kind: MetricType, aggregation: str, source: str, step_ns: int) -> str:
    if kind in ("gauge", "sum") and aggregation in _VALUE_AGGREGATES:
        function = _VALUE_AGGREGATES[aggregation]
        return f"""
            SELECT Bucket, Labels, {function}(Value) FROM ({source})
            GROUP BY Bucket, Labels ORDER BY Labels, Bucket"""
    if aggregation == "rate":
        seconds = step_ns / NS_PER_SECOND
        points = _WITH_PREVIOUS.format(source=source)
        return f"""
            SELECT Bucket, Labels, sum(Increase) / {seconds!r}
            FROM (SELECT Bucket, Labels, {_INCREASE} AS Increase FROM ({points}))
            GROUP BY Bucket, Labels ORDER BY Labels, Bucket"""
    # histogram-like tables: average and count from Sum and Count, per series first
    per_series = """
        SELECT Bucket, Labels, SeriesKey,
               if(any(AggregationTemporality) = 1, sum(Count), argMax(Count, TimeUnix)) AS C,
               if(any(AggregationTemporality) = 1, sum(Sum), argMax(Sum, TimeUnix)) AS S"""
    if kind == "summary":
        per_series = """
        SELECT Bucket, Labels, SeriesKey, argMax(Count, TimeUnix) AS C, argMax(Sum, TimeUnix) AS S"""
    value = "sum(C)" if aggregation == "count" else "if(sum(C) = 0, nan, sum(S) / sum(C))"
    return f"""
        SELECT Bucket, Labels, {value}
        FROM ({per_series} FROM ({source}) GROUP BY Bucket, Labels, SeriesKey)
        GROUP BY Bucket, Labels ORDER BY Labels, Bucket"""


def _histogram_quantiles(
    store: Store, source: str, params: Params, query: SeriesQuery, limits: QueryLimits
) -> list[Series]:
    sql = f"""
        SELECT Bucket, Labels, ExplicitBounds, sumForEach(Counts)
        FROM (
            SELECT Bucket, Labels, SeriesKey, ExplicitBounds,
                   if(any(AggregationTemporality) = 1, sumForEach(BucketCounts),
                      argMax(BucketCounts, TimeUnix)) AS Counts
            FROM ({source})
            GROUP BY Bucket, Labels, SeriesKey, ExplicitBounds
        )
        GROUP BY Bucket, Labels, ExplicitBounds
        ORDER BY Labels, Bucket"""
    rows = run(store, sql, params, limits)
    level = QUANTILES[query.aggregation]
    merged: dict[tuple[tuple[str, ...], int], list[float]] = {}
    for bucket, labels, bounds, counts in rows:
        # series with different bounds in one step: keep the estimate from the most populated
        estimate = bucket_quantile(level, list(bounds), list(counts))
        key = (tuple(labels), int(bucket))
        if key not in merged or sum(counts) > merged[key][1]:
            merged[key] = [estimate, float(sum(counts))]
    return _to_series(query.group_by, ((list(k[0]), k[1], v[0]) for k, v in merged.items()))


def bucket_quantile(level: float, bounds: list[float], counts: list[int]) -> float:
    """The ``level`` quantile of an explicit-bucket histogram, interpolating linearly inside the
    bucket that holds it (as Prometheus' ``histogram_quantile`` does); NaN when it is empty."""
    total = sum(counts)
    if total == 0:
        return float("nan")
    rank = level * total
    seen = 0.0
    for index, count in enumerate(counts):
        if count and seen + count >= rank:
            lower = bounds[index - 1] if index > 0 else min(0.0, bounds[0] if bounds else 0.0)
            if index >= len(bounds):
                return bounds[-1] if bounds else float("nan")
            upper = bounds[index]
            return lower + (upper - lower) * (rank - seen) / count
        seen += count
    return bounds[-1] if bounds else float("nan")


def _to_series(group_by: list[str], rows: Any) -> list[Series]:
    series: dict[tuple[str, ...], list[tuple[int, float]]] = {}
    for labels, bucket, value in rows:
        series.setdefault(tuple(labels), []).append((int(bucket), value))
    return [
        Series(dict(zip(group_by, labels, strict=True)), sorted(points))
        for labels, points in sorted(series.items())
    ]
