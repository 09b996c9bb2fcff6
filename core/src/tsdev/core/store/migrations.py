"""Versioned, idempotent schema migrations, applied in order at start.

Each statement is a template with ``{db}`` (the configured database) and, for tables with retention,
``{ttl}`` (the TTL clause built from settings, empty when retention is off). Every statement is safe to
run again (``IF NOT EXISTS``), so two receivers starting at once against one server cannot conflict;
the applied version is recorded in ``tsdev_schema_version``.

A statement may be a tuple of alternatives: the first one the server accepts wins. This is how the
log body index uses ClickHouse's ``text`` index where the server has it and a token bloom filter on
older servers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tsdev.core.store.ddl_advisor import ADVISOR_PULL_REQUESTS, ADVISOR_PULL_REQUESTS_DDL
from tsdev.core.store.ddl_findings import (
    ANALYSIS_WATERMARK,
    ANALYSIS_WATERMARK_DDL,
    FINDINGS,
    FINDINGS_DDL,
)
from tsdev.core.store.ddl_forecasts import (
    FORECAST_EVENTS,
    FORECAST_EVENTS_DDL,
    FORECASTS,
    FORECASTS_DDL,
    SEASONALITY,
    SEASONALITY_DDL,
)
from tsdev.core.store.ddl_scaling import SCALING_DECISIONS, SCALING_DECISIONS_DDL
from tsdev.core.store.tables import SPANS_BY_TRACE_ID, TRACE_SUMMARY

Signal = Literal["traces", "logs", "metrics"]
Statement = str | tuple[str, ...]


@dataclass(frozen=True)
class TableDDL:
    """One statement of a migration: usually the ``CREATE`` of a table or view (``creates`` is then
    the object's name), with the signal whose retention applies and its time column; or a data step
    such as a backfill (``creates=False``)."""

    name: str
    statement: Statement
    signal: Signal | None = None
    ttl_column: str = ""
    creates: bool = True


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    tables: tuple[TableDDL, ...]


_MAP = "Map(LowCardinality(String), String)"

_ATTRIBUTE_INDEXES = """
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1"""

_TRACES = f"""
CREATE TABLE IF NOT EXISTS {{db}}.otel_traces (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes {_MAP} CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    SpanAttributes {_MAP} CODEC(ZSTD(1)),
    Duration UInt64 CODEC(ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested (
        Timestamp DateTime64(9),
        Name LowCardinality(String),
        Attributes {_MAP}
    ) CODEC(ZSTD(1)),
    Links Nested (
        TraceId String,
        SpanId String,
        TraceState String,
        Attributes {_MAP}
    ) CODEC(ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,{_ATTRIBUTE_INDEXES},
    INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_duration Duration TYPE minmax GRANULARITY 1
) ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp))
{{ttl}}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
"""

_TRACE_ID_TS = """
CREATE TABLE IF NOT EXISTS {db}.otel_traces_trace_id_ts (
    TraceId String CODEC(ZSTD(1)),
    Start SimpleAggregateFunction(min, DateTime) CODEC(ZSTD(1)),
    End SimpleAggregateFunction(max, DateTime) CODEC(ZSTD(1))
) ENGINE = AggregatingMergeTree
PARTITION BY toStartOfWeek(Start)
ORDER BY (TraceId)
{ttl}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
"""

_TRACE_ID_TS_MV = """
CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.otel_traces_trace_id_ts_mv
TO {db}.otel_traces_trace_id_ts
AS SELECT
    TraceId,
    min(Timestamp) AS Start,
    max(Timestamp) AS End
FROM {db}.otel_traces
WHERE TraceId != ''
GROUP BY TraceId
"""


def _logs(body_index: str) -> str:
    return f"""
CREATE TABLE IF NOT EXISTS {{db}}.otel_logs (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TimestampTime DateTime DEFAULT toDateTime(Timestamp),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    TraceFlags UInt8,
    SeverityText LowCardinality(String) CODEC(ZSTD(1)),
    SeverityNumber UInt8,
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Body String CODEC(ZSTD(1)),
    ResourceSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes {_MAP} CODEC(ZSTD(1)),
    ScopeSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion LowCardinality(String) CODEC(ZSTD(1)),
    ScopeAttributes {_MAP} CODEC(ZSTD(1)),
    LogAttributes {_MAP} CODEC(ZSTD(1)),
    EventName String CODEC(ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,{_ATTRIBUTE_INDEXES},
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_log_attr_key mapKeys(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_log_attr_value mapValues(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    {body_index}
) ENGINE = MergeTree
PARTITION BY toDate(TimestampTime)
ORDER BY (toStartOfFiveMinutes(Timestamp), ServiceName, Timestamp)
{{ttl}}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
"""


_LOGS = (
    _logs("INDEX idx_lower_body lower(Body) TYPE text(tokenizer = 'splitByNonAlpha')"),
    _logs("INDEX idx_lower_body lower(Body) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 1"),
)

_EXEMPLARS = f"""
    Exemplars Nested (
        FilteredAttributes {_MAP},
        TimeUnix DateTime64(9),
        Value Float64,
        SpanId String,
        TraceId String
    ) CODEC(ZSTD(1)),"""


def _metric_table(name: str, value_columns: str) -> str:
    return f"""
CREATE TABLE IF NOT EXISTS {{db}}.{name} (
    ResourceAttributes {_MAP} CODEC(ZSTD(1)),
    ResourceSchemaUrl String CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    ScopeAttributes {_MAP} CODEC(ZSTD(1)),
    ScopeDroppedAttrCount UInt32 CODEC(ZSTD(1)),
    ScopeSchemaUrl String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    MetricName String CODEC(ZSTD(1)),
    MetricDescription String CODEC(ZSTD(1)),
    MetricUnit String CODEC(ZSTD(1)),
    Attributes {_MAP} CODEC(ZSTD(1)),
    StartTimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
    TimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),{value_columns}
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_key mapKeys(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_value mapValues(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = MergeTree
PARTITION BY toDate(TimeUnix)
ORDER BY (ServiceName, MetricName, toStartOfHour(TimeUnix), cityHash64(Attributes), TimeUnix)
{{ttl}}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
"""


_GAUGE = _metric_table(
    "otel_metrics_gauge",
    f"""
    Value Float64 CODEC(ZSTD(1)),
    Flags UInt32 CODEC(ZSTD(1)),{_EXEMPLARS}""",
)
_SUM = _metric_table(
    "otel_metrics_sum",
    f"""
    Value Float64 CODEC(ZSTD(1)),
    Flags UInt32 CODEC(ZSTD(1)),{_EXEMPLARS}
    AggregationTemporality Int32 CODEC(ZSTD(1)),
    IsMonotonic Boolean CODEC(Delta, ZSTD(1)),""",
)
_HISTOGRAM = _metric_table(
    "otel_metrics_histogram",
    f"""
    Count UInt64 CODEC(Delta, ZSTD(1)),
    Sum Float64 CODEC(ZSTD(1)),
    BucketCounts Array(UInt64) CODEC(ZSTD(1)),
    ExplicitBounds Array(Float64) CODEC(ZSTD(1)),{_EXEMPLARS}
    Flags UInt32 CODEC(ZSTD(1)),
    Min Float64 CODEC(ZSTD(1)),
    Max Float64 CODEC(ZSTD(1)),
    AggregationTemporality Int32 CODEC(ZSTD(1)),""",
)
_EXP_HISTOGRAM = _metric_table(
    "otel_metrics_exp_histogram",
    f"""
    Count UInt64 CODEC(Delta, ZSTD(1)),
    Sum Float64 CODEC(ZSTD(1)),
    Scale Int32 CODEC(ZSTD(1)),
    ZeroCount UInt64 CODEC(ZSTD(1)),
    PositiveOffset Int32 CODEC(ZSTD(1)),
    PositiveBucketCounts Array(UInt64) CODEC(ZSTD(1)),
    NegativeOffset Int32 CODEC(ZSTD(1)),
    NegativeBucketCounts Array(UInt64) CODEC(ZSTD(1)),{_EXEMPLARS}
    Flags UInt32 CODEC(ZSTD(1)),
    Min Float64 CODEC(ZSTD(1)),
    Max Float64 CODEC(ZSTD(1)),
    AggregationTemporality Int32 CODEC(ZSTD(1)),""",
)
_SUMMARY = _metric_table(
    "otel_metrics_summary",
    """
    Count UInt64 CODEC(Delta, ZSTD(1)),
    Sum Float64 CODEC(ZSTD(1)),
    ValueAtQuantiles Nested (
        Quantile Float64,
        Value Float64
    ) CODEC(ZSTD(1)),
    Flags UInt32 CODEC(ZSTD(1)),""",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        version=1,
        description="OpenTelemetry traces, trace-id lookup, logs and the five metric tables",
        tables=(
            TableDDL("otel_traces", _TRACES, "traces", "toDateTime(Timestamp)"),
            TableDDL("otel_traces_trace_id_ts", _TRACE_ID_TS, "traces", "toDateTime(Start)"),
            TableDDL("otel_traces_trace_id_ts_mv", _TRACE_ID_TS_MV),
            TableDDL("otel_logs", _LOGS, "logs", "TimestampTime"),
            TableDDL("otel_metrics_gauge", _GAUGE, "metrics", "toDateTime(TimeUnix)"),
            TableDDL("otel_metrics_sum", _SUM, "metrics", "toDateTime(TimeUnix)"),
            TableDDL("otel_metrics_histogram", _HISTOGRAM, "metrics", "toDateTime(TimeUnix)"),
            TableDDL("otel_metrics_exp_histogram", _EXP_HISTOGRAM, "metrics", "toDateTime(TimeUnix)"),
            TableDDL("otel_metrics_summary", _SUMMARY, "metrics", "toDateTime(TimeUnix)"),
        ),
    ),
)

_RED_COLUMNS = """
    Requests SimpleAggregateFunction(sum, UInt64),
    Errors SimpleAggregateFunction(sum, UInt64),
    DurationSum SimpleAggregateFunction(sum, UInt64),
    DurationQuantiles AggregateFunction(quantilesTDigest(0.5, 0.95, 0.99), UInt64)"""

_SERVICE_RED_1M = f"""
CREATE TABLE IF NOT EXISTS {{db}}.tsdev_service_red_1m (
    Minute DateTime CODEC(Delta(4), ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),{_RED_COLUMNS}
) ENGINE = AggregatingMergeTree
PARTITION BY toDate(Minute)
ORDER BY (ServiceName, SpanName, SpanKind, Minute)
{{ttl}}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1
"""

_SERVICE_RED_SELECT = """
SELECT
    toStartOfMinute(Timestamp) AS Minute,
    ServiceName,
    SpanName,
    SpanKind,
    count() AS Requests,
    countIf(StatusCode = 'Error') AS Errors,
    sum(Duration) AS DurationSum,
    quantilesTDigestState(0.5, 0.95, 0.99)(Duration) AS DurationQuantiles
FROM {db}.otel_traces
"""

_SERVICE_RED_1M_MV = (
    "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.tsdev_service_red_1m_mv TO {db}.tsdev_service_red_1m AS"
    + _SERVICE_RED_SELECT
    + "GROUP BY Minute, ServiceName, SpanName, SpanKind"
)

# Spans stored before the view existed; skipped once the table holds anything, so a rerun after a
# crash between the two statements cannot count spans twice.
_SERVICE_RED_1M_BACKFILL = (
    _SERVICE_RED_1M_MV.replace(
        "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.tsdev_service_red_1m_mv TO", "INSERT INTO"
    )
    .replace("{db}.tsdev_service_red_1m AS", "{db}.tsdev_service_red_1m")
    .replace("GROUP BY", "WHERE (SELECT count() FROM {db}.tsdev_service_red_1m) = 0 GROUP BY")
)

MIGRATIONS += (
    Migration(
        version=2,
        description="Per-minute request, error and latency aggregates per service, operation and kind",
        tables=(
            TableDDL("tsdev_service_red_1m", _SERVICE_RED_1M, "traces", "Minute"),
            TableDDL("tsdev_service_red_1m_backfill", _SERVICE_RED_1M_BACKFILL, creates=False),
            TableDDL("tsdev_service_red_1m_mv", _SERVICE_RED_1M_MV),
        ),
    ),
)

MIGRATIONS += (
    Migration(
        version=3,
        description="Findings of the trace analysis and the watermark of incremental analysis",
        tables=(
            TableDDL(FINDINGS, FINDINGS_DDL),
            TableDDL(ANALYSIS_WATERMARK, ANALYSIS_WATERMARK_DDL),
        ),
    ),
)

MIGRATIONS += (
    Migration(
        version=4,
        description="Forecasts with quantiles and backtest scores, declared events, seasonality results",
        tables=(
            TableDDL(FORECASTS, FORECASTS_DDL, "traces", "toDateTime(FittedAt)"),
            TableDDL(FORECAST_EVENTS, FORECAST_EVENTS_DDL),
            TableDDL(SEASONALITY, SEASONALITY_DDL, "traces", "toDateTime(AnalyzedAt)"),
        ),
    ),
)

MIGRATIONS += (
    Migration(
        version=5,
        description="Decisions of the predictive autoscaler, one row per app per tick",
        tables=(TableDDL(SCALING_DECISIONS, SCALING_DECISIONS_DDL, "metrics", "toDateTime(DecidedAt)"),),
    ),
)

MIGRATIONS += (
    Migration(
        version=6,
        description="Advisor pull requests: one row per attempt to advise a finding",
        tables=(TableDDL(ADVISOR_PULL_REQUESTS, ADVISOR_PULL_REQUESTS_DDL),),
    ),
)

# The services table needs each service's figures over the whole range, not each operation's, and at
# minute resolution only at the range's edges. Two narrower rollups of the minute table serve it: per
# service and span kind per hour for the whole hours of a range, and per minute, ordered by time, for
# the partial hours at its edges. Hours are UTC hours whatever the server's time zone, so the query
# layer tells whole hours from partial ones by arithmetic.
_SERVICE_KIND_RED = """
CREATE TABLE IF NOT EXISTS {{db}}.{table} (
    {time} DateTime CODEC(Delta(4), ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),{columns}
) ENGINE = AggregatingMergeTree
PARTITION BY toDate({time})
ORDER BY ({time}, ServiceName, SpanKind)
{{ttl}}
SETTINGS index_granularity = {granularity}, ttl_only_drop_parts = 1
"""

# Fed from the minute table rather than from spans, so every row that reaches it (from its own view,
# its backfill or a direct insert) is rolled up the same way.
_SERVICE_KIND_RED_SELECT = """
SELECT
    {time_of_minute} AS {time},
    ServiceName,
    SpanKind,
    sum(Requests) AS Requests,
    sum(Errors) AS Errors,
    sum(DurationSum) AS DurationSum,
    quantilesTDigestMergeState(0.5, 0.95, 0.99)(DurationQuantiles) AS DurationQuantiles
FROM {{db}}.tsdev_service_red_1m
"""


def _service_kind_red(table: str, time: str, time_of_minute: str, granularity: int) -> tuple[TableDDL, ...]:
    """The table, its backfill from the minute rows stored before it existed (once, as for the minute
    table itself) and the view that keeps it current."""
    select = _SERVICE_KIND_RED_SELECT.format(time=time, time_of_minute=time_of_minute)
    group = f"GROUP BY {time}, ServiceName, SpanKind"
    return (
        TableDDL(
            table,
            _SERVICE_KIND_RED.format(table=table, time=time, columns=_RED_COLUMNS, granularity=granularity),
            "traces",
            time,
        ),
        TableDDL(
            f"{table}_backfill",
            f"INSERT INTO {{db}}.{table}{select}WHERE (SELECT count() FROM {{db}}.{table}) = 0 {group}",  # noqa: S608
            creates=False,
        ),
        TableDDL(
            f"{table}_mv",
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS {{db}}.{table}_mv TO {{db}}.{table} AS{select}{group}",
        ),
    )


MIGRATIONS += (
    Migration(
        version=7,
        description="Request, error and latency aggregates per service and span kind, per minute and hour",
        tables=(
            *_service_kind_red("tsdev_service_kind_red_1m", "Minute", "Minute", 1024),
            *_service_kind_red("tsdev_service_kind_red_1h", "Hour", "toStartOfHour(Minute, 'UTC')", 8192),
        ),
    ),
)

# What trace search shows of each trace and what a lookup by id needs to narrow its read, per trace
# id: a handful of granules answer for any trace, where computing the same from spans reads every
# granule holding one of its spans. ``Root`` picks the earliest root span, or the earliest span when
# no root is stored. Ordered by trace id like the exporter's lookup table, with small granules because
# it is only ever read by id.
_TRACE_SUMMARY = """
CREATE TABLE IF NOT EXISTS {db}.tsdev_trace_summary (
    TraceId String CODEC(ZSTD(1)),
    Start SimpleAggregateFunction(min, DateTime64(9)) CODEC(ZSTD(1)),
    LastStart SimpleAggregateFunction(max, DateTime64(9)) CODEC(ZSTD(1)),
    EndNs SimpleAggregateFunction(max, Int64) CODEC(ZSTD(1)),
    SpanCount SimpleAggregateFunction(sum, UInt64),
    ErrorCount SimpleAggregateFunction(sum, UInt64),
    Services SimpleAggregateFunction(groupUniqArrayArray, Array(String)) CODEC(ZSTD(1)),
    Root AggregateFunction(argMin, Tuple(String, String), Tuple(UInt8, DateTime64(9)))
) ENGINE = AggregatingMergeTree
PARTITION BY toStartOfWeek(Start)
ORDER BY TraceId
{ttl}
SETTINGS index_granularity = 1024, ttl_only_drop_parts = 1
"""

_TRACE_SUMMARY_SELECT = """
SELECT
    TraceId,
    min(Timestamp) AS Start,
    max(Timestamp) AS LastStart,
    max(toUnixTimestamp64Nano(Timestamp) + Duration) AS EndNs,
    count() AS SpanCount,
    countIf(StatusCode = 'Error') AS ErrorCount,
    groupUniqArray(ServiceName) AS Services,
    argMinState(
        (CAST(ServiceName, 'String'), CAST(SpanName, 'String')), (ParentSpanId != '', Timestamp)
    ) AS Root
FROM {db}.otel_traces
WHERE TraceId != ''
"""

MIGRATIONS += (
    Migration(
        version=8,
        description="Per-trace summary: time bounds, span and error counts, services and root span",
        tables=(
            TableDDL(TRACE_SUMMARY, _TRACE_SUMMARY, "traces", "toDateTime(Start)"),
            TableDDL(
                "tsdev_trace_summary_backfill",
                "INSERT INTO {db}.tsdev_trace_summary"  # noqa: S608
                + _TRACE_SUMMARY_SELECT
                + "AND (SELECT count() FROM {db}.tsdev_trace_summary) = 0 GROUP BY TraceId",
                creates=False,
            ),
            TableDDL(
                "tsdev_trace_summary_mv",
                "CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.tsdev_trace_summary_mv"
                " TO {db}.tsdev_trace_summary AS" + _TRACE_SUMMARY_SELECT + "GROUP BY TraceId",
            ),
        ),
    ),
)

# Spans of one trace stored together. ``otel_traces`` is ordered by service, operation and time (the
# exporter's schema, which the Collector and Grafana rely on), so the spans of a trace lie in a dozen
# or more granules, and returning them meant decompressing every column of all those granules (about
# 75 ms of CPU per lookup on 10 million spans). A projection ordered by trace id keeps a second copy
# of each part sorted that way, inside the same part: the engine picks it for filters on ``TraceId``,
# merges and drops it with its part, and other writers of the table need not know it exists. It costs
# about 60 % more span storage and a sixth more insert work (bench/README.md), what trace-oriented
# stores pay for the same lookup with a second table. Parts written before the migration gain it
# through an asynchronous mutation; until then lookups read them by primary key and time bounds.
MIGRATIONS += (
    Migration(
        version=9,
        description="Spans ordered by trace id inside each part, for lookups of whole traces",
        tables=(
            TableDDL(
                f"{SPANS_BY_TRACE_ID}_add",
                f"ALTER TABLE {{db}}.otel_traces ADD PROJECTION IF NOT EXISTS {SPANS_BY_TRACE_ID}"
                " (SELECT * ORDER BY TraceId)",
                creates=False,
            ),
            TableDDL(
                f"{SPANS_BY_TRACE_ID}_materialize",
                # Not waited for: the embedded engine waits for mutations by default, which would hold
                # up the start of an upgraded server for as long as rewriting every stored span takes.
                f"ALTER TABLE {{db}}.otel_traces MATERIALIZE PROJECTION {SPANS_BY_TRACE_ID}"
                " SETTINGS mutations_sync = 0",
                creates=False,
            ),
        ),
    ),
)

SCHEMA_VERSION_DDL = """
CREATE TABLE IF NOT EXISTS {db}.tsdev_schema_version (
    Version UInt32,
    Description String,
    AppliedAt DateTime64(3) DEFAULT now64(3)
) ENGINE = ReplacingMergeTree
ORDER BY Version
"""


def ttl_clause(column: str, days: int) -> str:
    return f"TTL {column} + toIntervalDay({days})" if days > 0 else ""
