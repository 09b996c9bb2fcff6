"""Request-rate series from a counter metric (a monotonic Sum) instead of server spans.

Services that are not traced, or sampled, still count their requests; ``TSDEV_FORECAST_COUNTER_METRIC``
names such a counter, and its per-minute increase becomes the series, computed in ClickHouse from
``otel_metrics_sum`` as the OTLP receiver stored it.

One stream is one resource, scope and attribute set of the metric. Each data point becomes an increase
over an interval:

- delta temporality: the point's value, over ``(StartTimeUnix, TimeUnix]``;
- cumulative: the difference to the stream's previous point, over the time between them; a point
  whose value fell, or whose start time changed, is a counter reset (the process restarted), so its
  whole value is the increase since its start time. The first point of a stream has no baseline and
  counts only when its start time lies inside the range read (a process that started then); an hour
  before the window is read so that streams exporting all along have one.

Each increase is spread over the minutes of its interval in proportion to their overlap, so an export
interval longer than a minute, or a gap in the exports, does not pile a burst onto one minute.

Gap filling and outage marking follow the span series (see ``series_sql``): minutes without an
increase are zeros, and a run of at least ``OUTAGE_MINUTES`` minutes in which no data point of the
metric arrived from any service, after the service was busy, is a gap. The minute of the newest data
point, and any after it, are left out: the rest of their increase comes with the next export.
"""

# ruff: noqa: S608  # SQL is assembled from fixed fragments; every caller value is a bound {pN:Type}

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from tsdev.analysis.forecast._series import RegularSeries
from tsdev.analysis.forecast.series_sql import (
    DEFAULT_LOOKBACK,
    TrafficSummary,
    _end_minute,
    _epoch,
    _naive_utc,
    minute_series,
    read_window,
)
from tsdev.core.query._sql import DEFAULT_LIMITS, Params, QueryLimits, checked_value, run
from tsdev.core.store import Store
from tsdev.core.store.tables import METRICS_SUM

BASELINE_MARGIN = timedelta(hours=1)
"""Read before the window so cumulative streams have a previous point to take differences from."""

DELTA, CUMULATIVE = 1, 2  # AggregationTemporality as OTLP numbers it


@dataclass(frozen=True)
class CounterMetric:
    """A monotonic Sum metric counting requests, and the attributes that name service and operation.

    An attribute is looked up in the data point's attributes, then the resource's; ``service.name``
    is the resource's service name (the ``ServiceName`` column).
    """

    name: str
    service_attribute: str = "service.name"
    operation_attribute: str = "http.route"

    def describe(self) -> str:
        return f"counter metric {self.name!r}"


def _attribute(key: str, params: Params, parameter: str) -> str:
    if key == "service.name":
        return "ServiceName"
    bound = params.string(checked_value(key, parameter))
    return f"if(mapContains(Attributes, {bound}), Attributes[{bound}], ResourceAttributes[{bound}])"


def _increases(
    store: Store, counter: CounterMetric, params: Params, read_start: int, end: int, mine: list[str]
) -> str:
    """One row per data point of the counter: its service, increase and the interval ``(A, T]``
    (seconds since the epoch) it happened in."""
    stream = "cityHash64(ServiceName, ResourceAttributes, ScopeName, Attributes, AggregationTemporality)"
    seconds = "toFloat64(toUnixTimestamp64Nano({column})) / 1e9"
    t, t0 = seconds.format(column="TimeUnix"), seconds.format(column="StartTimeUnix")
    where = [
        f"MetricName = {params.string(checked_value(counter.name, 'metric'))}",
        "IsMonotonic",
        f"TimeUnix >= fromUnixTimestamp64Nano({params.int64(read_start * 10**9)})",
        f"TimeUnix < fromUnixTimestamp64Nano({params.int64(end * 10**9)})",
        *mine,
    ]
    service = _attribute(counter.service_attribute, params, "service attribute")
    reset = "(Value < PrevValue OR (T0 > 0 AND PrevT0 > 0 AND T0 != PrevT0))"
    fresh = f"(T0 >= {params.int64(read_start)} AND T0 < T)"
    return f"""
        SELECT Service, T,
            multiIf(Temporality = {DELTA}, Value, N = 1, if({fresh}, Value, 0),
                    {reset}, Value, Value - PrevValue) AS Increase,
            multiIf(Temporality = {DELTA}, if(T0 > 0 AND T0 < T, T0, T), N = 1, T0,
                    {reset}, if(T0 > PrevT AND T0 < T, T0, PrevT), PrevT) AS Begin,
            if(Begin < T, Begin, T - 0.001) AS A
        FROM (
            SELECT {service} AS Service, Value, AggregationTemporality AS Temporality,
                   {t} AS T, {t0} AS T0,
                   lagInFrame(Value) OVER w AS PrevValue,
                   lagInFrame({t}) OVER w AS PrevT,
                   lagInFrame({t0}) OVER w AS PrevT0,
                   row_number() OVER w AS N
            FROM {store.table(METRICS_SUM)}
            WHERE {" AND ".join(where)}
            WINDOW w AS (PARTITION BY {stream} ORDER BY TimeUnix
                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
        )
        WHERE Temporality IN ({DELTA}, {CUMULATIVE})"""


def counter_rate(
    store: Store,
    counter: CounterMetric,
    service: str,
    operation: str | None = None,
    *,
    since: datetime | None = None,
    lookback: timedelta = DEFAULT_LOOKBACK,
    now: datetime | None = None,
    limits: QueryLimits = DEFAULT_LIMITS,
) -> RegularSeries | None:
    """Increase per minute of ``counter`` for ``service`` (or one operation), 1-minute step.

    Same shape and window as ``series_sql.request_rate``; ``None`` when the counter did not grow for
    the service in the window.
    """
    window = read_window(since, lookback, now)
    if window is None:
        return None
    params = Params()
    start_s, end_s = _epoch(window[0]), _epoch(window[1])
    mine = [f"{_attribute(counter.service_attribute, params, 'service attribute')} = "
            f"{params.string(checked_value(service, 'service'))}"]  # fmt: skip
    if operation is not None:
        mine.append(
            f"{_attribute(counter.operation_attribute, params, 'operation attribute')} = "
            f"{params.string(checked_value(operation, 'operation'))}"
        )
    increases = _increases(
        store, counter, params, start_s - int(BASELINE_MARGIN.total_seconds()), end_s, mine
    )
    lo, hi = params.int64(start_s), params.int64(end_s)
    # The service's increases spread over minutes, and every data point of the counter (any service)
    # counted by minute, so minutes in which nothing arrived at all (a possible outage) stand out.
    sql = f"""
        SELECT Minute, sum(Own) AS own, sum(Points) AS everyone FROM (
            SELECT toDateTime(toUInt32(K * 60), 'UTC') AS Minute,
                   Increase * (least(T, (K + 1) * 60) - greatest(A, K * 60)) / (T - A) AS Own,
                   toUInt64(0) AS Points
            FROM ({increases})
            ARRAY JOIN arrayMap(k -> toFloat64(k), range(toUInt32(floor(A / 60)), toUInt32(ceil(T / 60))))
                AS K
            WHERE Increase != 0
            UNION ALL
            SELECT toStartOfMinute(TimeUnix) AS Minute, toFloat64(0) AS Own, toUInt64(1) AS Points
            FROM {store.table(METRICS_SUM)}
            WHERE MetricName = {params.string(counter.name)}
              AND TimeUnix >= toDateTime({lo}, 'UTC') AND TimeUnix < toDateTime({hi}, 'UTC')
        )
        WHERE Minute >= toDateTime({lo}, 'UTC') AND Minute < toDateTime({hi}, 'UTC')
        GROUP BY Minute
        ORDER BY Minute WITH FILL
            FROM toDateTime({lo}, 'UTC') TO toDateTime({hi}, 'UTC') STEP INTERVAL 1 MINUTE"""
    rows = run(store, sql, params, limits)
    own = np.array([float(row[1]) for row in rows])
    everyone = np.array([float(row[2]) for row in rows])
    reported = np.flatnonzero(everyone > 0)
    if reported.size == 0:
        return None
    complete = int(reported[-1])  # the newest data point's minute is still being counted
    return minute_series(rows[0][0], own[:complete], everyone[:complete], incremental=since is not None)


def services_with_counter_traffic(
    store: Store,
    counter: CounterMetric,
    *,
    min_requests: int = 1,
    lookback: timedelta = DEFAULT_LOOKBACK,
    now: datetime | None = None,
    limits: QueryLimits = DEFAULT_LIMITS,
) -> list[TrafficSummary]:
    """Services whose counter grew by at least ``min_requests`` in the lookback."""
    end = _end_minute(now)
    params = Params()
    start_s, end_s = _epoch(end - lookback), _epoch(end)
    increases = _increases(store, counter, params, start_s - int(BASELINE_MARGIN.total_seconds()), end_s, [])
    sql = f"""
        SELECT Service, sum(Increase) AS requests,
               toDateTime(intDiv(toUInt32(min(T)), 60) * 60, 'UTC'),
               toDateTime(intDiv(toUInt32(max(T)), 60) * 60, 'UTC')
        FROM ({increases})
        WHERE T >= {params.int64(start_s)} AND Increase > 0
        GROUP BY Service
        HAVING requests >= {params.int64(min_requests)}
        ORDER BY Service"""
    return [
        TrafficSummary(name, round(requests), _naive_utc(first), _naive_utc(last))
        for name, requests, first, last in run(store, sql, params, limits)
    ]
