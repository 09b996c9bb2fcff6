"""``rate`` of a cumulative counter: increases between points in different steps are counted,
resets restart from zero, and series are kept apart before they are summed."""

from __future__ import annotations

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from tsdev.core.query import TimeRange
from tsdev.core.query.metrics import SeriesQuery, metric_series
from tsdev.core.store import Store
from tsdev.ingest.signals import METRICS

T0 = 1_699_999_980 * 10**9  # a whole minute
MINUTE = 60 * 10**9


def _counter(points: list[tuple[int, float, int]], host: str) -> ResourceMetrics:
    """A cumulative monotonic sum with (minute, value, start minute) points."""
    data_points = [
        NumberDataPoint(
            time_unix_nano=T0 + minute * MINUTE + 30 * 10**9,
            start_time_unix_nano=T0 + start * MINUTE,
            as_double=value,
        )
        for minute, value, start in points
    ]
    metric = Metric(
        name="http.server.requests",
        sum=Sum(
            data_points=data_points,
            aggregation_temporality=AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE,
            is_monotonic=True,
        ),
    )
    resource = Resource(
        attributes=[
            KeyValue(key="service.name", value=AnyValue(string_value="api")),
            KeyValue(key="host.name", value=AnyValue(string_value=host)),
        ]
    )
    return ResourceMetrics(resource=resource, scope_metrics=[ScopeMetrics(metrics=[metric])])


def test_rate_counts_increases_across_steps_and_restarts_after_resets(fresh_store: Store) -> None:
    request = ExportMetricsServiceRequest(
        resource_metrics=[
            # one point a minute, 60 more each minute, then a process restart (new start time) and a
            # drop to a lower value without one
            _counter([(0, 100, 0), (1, 160, 0), (2, 220, 0), (3, 30, 3), (4, 90, 3), (5, 12, 3)], "a"),
            # a second series of the same service, 120 more each minute
            _counter([(minute, 1000 + 120 * minute, 0) for minute in range(6)], "b"),
        ]
    )
    for rows in METRICS.decode(request.SerializeToString(), json_body=False).rows:
        fresh_store.insert_arrow(rows.table, rows.to_arrow())
    query = SeriesQuery(
        name="http.server.requests",
        time_range=TimeRange(T0, T0 + 6 * MINUTE),
        step_ns=MINUTE,
        aggregation="rate",
    )
    (series,) = metric_series(fresh_store, query)
    values = [value for _, value in series.points]
    # minute 0: both series' first points (no earlier point to compare with);
    # minute 3: series a restarted at 30; minute 5: series a dropped to 12 (a reset as well)
    assert values == pytest.approx([0, 3.0, 3.0, (30 + 120) / 60, 3.0, (12 + 120) / 60])
    assert [bucket for bucket, _ in series.points] == [T0 + n * MINUTE for n in range(6)]
