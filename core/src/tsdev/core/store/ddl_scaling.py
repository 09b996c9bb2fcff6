"""The autoscaler's decisions (migration 5): one row per app per control-loop tick.

Stored so the API can answer "why does checkout run 12 pods?" after the fact: the forecast that was read
(value, quantile, when it was fitted), what the cluster had, what was applied where, and the reason in
words. ``KedaValue`` is what KEDA's metrics-api scaler is served, so that endpoint reads the latest row
instead of recomputing. Kept with the metrics retention: decisions are operational history.
"""

from __future__ import annotations

SCALING_DECISIONS = "tsdev_scaling_decisions"

SCALING_DECISIONS_DDL = """
CREATE TABLE IF NOT EXISTS {db}.tsdev_scaling_decisions (
    DecidedAt DateTime64(3) CODEC(Delta(8), ZSTD(1)),
    App LowCardinality(String) CODEC(ZSTD(1)),
    Namespace LowCardinality(String) CODEC(ZSTD(1)),
    ForecastValue Nullable(Float64),
    ForecastQuantile Nullable(Float64),
    ForecastAt Nullable(DateTime64(3)),
    ForecastFittedAt Nullable(DateTime64(3)),
    Desired UInt32,
    CurrentFloor UInt32,
    CurrentReplicas UInt32,
    Applied UInt32,
    KedaValue Float64,
    MinReplicas UInt32,
    MaxReplicas UInt32,
    Target LowCardinality(String),
    DryRun Bool,
    Reason String CODEC(ZSTD(1))
) ENGINE = MergeTree
PARTITION BY toDate(DecidedAt)
ORDER BY (App, DecidedAt)
{ttl}
SETTINGS index_granularity = 1024, ttl_only_drop_parts = 1
"""
