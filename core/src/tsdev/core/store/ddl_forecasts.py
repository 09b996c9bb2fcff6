"""Tables of the forecasting stage: forecasts, declared events and seasonality results (migration 4).

A forecast run is one row: its points are arrays, because a run is always written and read whole (the
API serves the latest run of a service; Grafana can ``ARRAY JOIN`` it), and one row per run keeps a
refit every few minutes cheap. Runs are kept (not replaced) so that a forecast can later be compared
with what really happened, and expire with the traces they were computed from.

Seasonality results have their own table until they are also written as findings of kind
``seasonality``; they keep the full evidence so both can be served from here.
"""

from __future__ import annotations

FORECASTS = "tsdev_forecasts"
FORECAST_EVENTS = "tsdev_forecast_events"
SEASONALITY = "tsdev_seasonality"

FORECASTS_DDL = """
CREATE TABLE IF NOT EXISTS {db}.tsdev_forecasts (
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Operation String CODEC(ZSTD(1)),
    FittedAt DateTime64(3) CODEC(Delta(8), ZSTD(1)),
    Model String CODEC(ZSTD(1)),
    ColdStart Bool,
    Calibrated Bool,
    Message String CODEC(ZSTD(1)),
    HistorySeconds Float64,
    HistoryEnd DateTime CODEC(ZSTD(1)),
    Start DateTime CODEC(ZSTD(1)),
    StepSeconds UInt32,
    Quantiles Array(Float64) CODEC(ZSTD(1)),
    Mean Array(Float64) CODEC(ZSTD(1)),
    QuantileValues Array(Array(Float64)) CODEC(ZSTD(1)),
    Scores String CODEC(ZSTD(1)),
    Coverage String CODEC(ZSTD(1))
) ENGINE = MergeTree
PARTITION BY toDate(FittedAt)
ORDER BY (ServiceName, Operation, FittedAt)
{ttl}
SETTINGS index_granularity = 1024, ttl_only_drop_parts = 1
"""

FORECAST_EVENTS_DDL = """
CREATE TABLE IF NOT EXISTS {db}.tsdev_forecast_events (
    EventId UUID,
    Name String CODEC(ZSTD(1)),
    ServiceName String CODEC(ZSTD(1)),
    Start DateTime CODEC(ZSTD(1)),
    End DateTime CODEC(ZSTD(1)),
    Multiplier Float64,
    CreatedAt DateTime64(3) DEFAULT now64(3)
) ENGINE = ReplacingMergeTree(CreatedAt)
ORDER BY (EventId)
"""

SEASONALITY_DDL = """
CREATE TABLE IF NOT EXISTS {db}.tsdev_seasonality (
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Operation String CODEC(ZSTD(1)),
    AnalyzedAt DateTime64(3) CODEC(Delta(8), ZSTD(1)),
    Fingerprint String CODEC(ZSTD(1)),
    Summary String CODEC(ZSTD(1)),
    Significant Array(String) CODEC(ZSTD(1)),
    Evidence String CODEC(ZSTD(1))
) ENGINE = MergeTree
PARTITION BY toDate(AnalyzedAt)
ORDER BY (ServiceName, Operation, AnalyzedAt)
{ttl}
SETTINGS index_granularity = 1024, ttl_only_drop_parts = 1
"""
