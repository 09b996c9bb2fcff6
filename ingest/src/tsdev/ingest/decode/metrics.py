"""``ExportMetricsServiceRequest`` to rows of the five ``otel_metrics_*`` tables.

Optional histogram fields (``sum``, ``min``, ``max``) are stored as 0 when absent, as the exporter
does; ``Flags`` keeps the no-recorded-value bit so readers can tell.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

from tsdev.core.store import tables
from tsdev.ingest.decode.anyvalue import attributes, service_name
from tsdev.ingest.decode.batch import MAP, TIMESTAMP, Decoded, TableRows, clamp_ns
from tsdev.ingest.decode.ids import SPAN_ID_BYTES, TRACE_ID_BYTES, optional_id

_COMMON = [
    ("ResourceAttributes", MAP),
    ("ResourceSchemaUrl", pa.string()),
    ("ScopeName", pa.string()),
    ("ScopeVersion", pa.string()),
    ("ScopeAttributes", MAP),
    ("ScopeDroppedAttrCount", pa.uint32()),
    ("ScopeSchemaUrl", pa.string()),
    ("ServiceName", pa.string()),
    ("MetricName", pa.string()),
    ("MetricDescription", pa.string()),
    ("MetricUnit", pa.string()),
    ("Attributes", MAP),
    ("StartTimeUnix", TIMESTAMP),
    ("TimeUnix", TIMESTAMP),
    ("Flags", pa.uint32()),
]
_EXEMPLARS = [
    ("Exemplars.FilteredAttributes", pa.list_(MAP)),
    ("Exemplars.TimeUnix", pa.list_(TIMESTAMP)),
    ("Exemplars.Value", pa.list_(pa.float64())),
    ("Exemplars.SpanId", pa.list_(pa.string())),
    ("Exemplars.TraceId", pa.list_(pa.string())),
]
_TEMPORALITY = [("AggregationTemporality", pa.int32())]
_COUNT_SUM = [("Count", pa.uint64()), ("Sum", pa.float64())]
_MIN_MAX = [("Min", pa.float64()), ("Max", pa.float64())]

GAUGE_SCHEMA = pa.schema([*_COMMON, ("Value", pa.float64()), *_EXEMPLARS])
SUM_SCHEMA = pa.schema(
    [*_COMMON, ("Value", pa.float64()), *_EXEMPLARS, *_TEMPORALITY, ("IsMonotonic", pa.bool_())]
)
HISTOGRAM_SCHEMA = pa.schema(
    [
        *_COMMON,
        *_COUNT_SUM,
        ("BucketCounts", pa.list_(pa.uint64())),
        ("ExplicitBounds", pa.list_(pa.float64())),
        *_EXEMPLARS,
        *_MIN_MAX,
        *_TEMPORALITY,
    ]
)
EXP_HISTOGRAM_SCHEMA = pa.schema(
    [
        *_COMMON,
        *_COUNT_SUM,
        ("Scale", pa.int32()),
        ("ZeroCount", pa.uint64()),
        ("PositiveOffset", pa.int32()),
        ("PositiveBucketCounts", pa.list_(pa.uint64())),
        ("NegativeOffset", pa.int32()),
        ("NegativeBucketCounts", pa.list_(pa.uint64())),
        *_EXEMPLARS,
        *_MIN_MAX,
        *_TEMPORALITY,
    ]
)
SUMMARY_SCHEMA = pa.schema(
    [
        *_COMMON,
        *_COUNT_SUM,
        ("ValueAtQuantiles.Quantile", pa.list_(pa.float64())),
        ("ValueAtQuantiles.Value", pa.list_(pa.float64())),
    ]
)


def _number(point: Any) -> float:
    return float(point.as_int) if point.WhichOneof("value") == "as_int" else float(point.as_double)


def _exemplars(points_exemplars: Any) -> dict[str, list[Any]]:
    """Exemplar columns of one data point; ``ValueError`` when an exemplar's ids are malformed."""
    return {
        "Exemplars.FilteredAttributes": [attributes(e.filtered_attributes) for e in points_exemplars],
        "Exemplars.TimeUnix": [clamp_ns(e.time_unix_nano) for e in points_exemplars],
        "Exemplars.Value": [_number(e) for e in points_exemplars],
        "Exemplars.SpanId": [
            optional_id(e.span_id, SPAN_ID_BYTES, "exemplar span_id") for e in points_exemplars
        ],
        "Exemplars.TraceId": [
            optional_id(e.trace_id, TRACE_ID_BYTES, "exemplar trace_id") for e in points_exemplars
        ],
    }


def _point_values(kind: str, metric: Any, point: Any) -> dict[str, Any]:
    """The type-specific columns of one data point."""
    if kind == "gauge":
        return {"Value": _number(point), **_exemplars(point.exemplars)}
    if kind == "sum":
        return {
            "Value": _number(point),
            **_exemplars(point.exemplars),
            "AggregationTemporality": int(metric.sum.aggregation_temporality),
            "IsMonotonic": bool(metric.sum.is_monotonic),
        }
    if kind == "histogram":
        return {
            "Count": point.count,
            "Sum": point.sum,
            "BucketCounts": list(point.bucket_counts),
            "ExplicitBounds": list(point.explicit_bounds),
            **_exemplars(point.exemplars),
            "Min": point.min,
            "Max": point.max,
            "AggregationTemporality": int(metric.histogram.aggregation_temporality),
        }
    if kind == "exponential_histogram":
        return {
            "Count": point.count,
            "Sum": point.sum,
            "Scale": point.scale,
            "ZeroCount": point.zero_count,
            "PositiveOffset": point.positive.offset,
            "PositiveBucketCounts": list(point.positive.bucket_counts),
            "NegativeOffset": point.negative.offset,
            "NegativeBucketCounts": list(point.negative.bucket_counts),
            **_exemplars(point.exemplars),
            "Min": point.min,
            "Max": point.max,
            "AggregationTemporality": int(metric.exponential_histogram.aggregation_temporality),
        }
    return {
        "Count": point.count,
        "Sum": point.sum,
        "ValueAtQuantiles.Quantile": [q.quantile for q in point.quantile_values],
        "ValueAtQuantiles.Value": [q.value for q in point.quantile_values],
    }


def decode_metrics(request: ExportMetricsServiceRequest) -> Decoded:
    by_kind = {
        "gauge": TableRows(tables.METRICS_GAUGE, GAUGE_SCHEMA),
        "sum": TableRows(tables.METRICS_SUM, SUM_SCHEMA),
        "histogram": TableRows(tables.METRICS_HISTOGRAM, HISTOGRAM_SCHEMA),
        "exponential_histogram": TableRows(tables.METRICS_EXP_HISTOGRAM, EXP_HISTOGRAM_SCHEMA),
        "summary": TableRows(tables.METRICS_SUMMARY, SUMMARY_SCHEMA),
    }
    accepted = rejected = 0
    errors: list[str] = []
    for resource_metrics in request.resource_metrics:
        resource = resource_metrics.resource
        resource_attributes = attributes(resource.attributes)
        service = service_name(resource.attributes)
        for scope_metrics in resource_metrics.scope_metrics:
            scope = scope_metrics.scope
            scope_attributes = attributes(scope.attributes)
            for metric in scope_metrics.metrics:
                kind = metric.WhichOneof("data")
                if kind is None:
                    continue
                columns = by_kind[kind].columns
                for point in getattr(metric, kind).data_points:
                    try:
                        values = _point_values(kind, metric, point)
                    except ValueError as exc:
                        rejected += 1
                        errors.append(f"metric {metric.name!r}: {exc}")
                        continue
                    columns["ResourceAttributes"].append(resource_attributes)
                    columns["ResourceSchemaUrl"].append(resource_metrics.schema_url)
                    columns["ScopeName"].append(scope.name)
                    columns["ScopeVersion"].append(scope.version)
                    columns["ScopeAttributes"].append(scope_attributes)
                    columns["ScopeDroppedAttrCount"].append(scope.dropped_attributes_count)
                    columns["ScopeSchemaUrl"].append(scope_metrics.schema_url)
                    columns["ServiceName"].append(service)
                    columns["MetricName"].append(metric.name)
                    columns["MetricDescription"].append(metric.description)
                    columns["MetricUnit"].append(metric.unit)
                    columns["Attributes"].append(attributes(point.attributes))
                    columns["StartTimeUnix"].append(clamp_ns(point.start_time_unix_nano))
                    columns["TimeUnix"].append(clamp_ns(point.time_unix_nano))
                    columns["Flags"].append(point.flags)
                    for name, value in values.items():
                        columns[name].append(value)
                    accepted += 1
    rows = [table_rows for table_rows in by_kind.values() if table_rows.num_rows]
    return Decoded(rows=rows, accepted=accepted, rejected=rejected, errors=errors)
