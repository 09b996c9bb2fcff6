"""Table names of the storage contract (the OpenTelemetry Collector ClickHouse exporter's names)."""

TRACES = "otel_traces"
TRACE_ID_TS = "otel_traces_trace_id_ts"
TRACE_ID_TS_MV = "otel_traces_trace_id_ts_mv"
LOGS = "otel_logs"
METRICS_GAUGE = "otel_metrics_gauge"
METRICS_SUM = "otel_metrics_sum"
METRICS_HISTOGRAM = "otel_metrics_histogram"
METRICS_EXP_HISTOGRAM = "otel_metrics_exp_histogram"
METRICS_SUMMARY = "otel_metrics_summary"
SCHEMA_VERSION = "tsdev_schema_version"
TRACE_SUMMARY = "tsdev_trace_summary"
SPANS_BY_TRACE_ID = "tsdev_spans_by_trace_id"
"""Projection of ``otel_traces`` ordered by trace id."""

METRIC_TABLES = (METRICS_GAUGE, METRICS_SUM, METRICS_HISTOGRAM, METRICS_EXP_HISTOGRAM, METRICS_SUMMARY)
