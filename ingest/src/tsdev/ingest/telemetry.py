"""tsdev's own metrics, exposed in Prometheus format at ``/metrics``."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class IngestMetrics:
    """Counters for one running server; each server has its own registry so tests can run several."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.requests = Counter(
            "tsdev_ingest_requests",
            "OTLP export requests by signal and outcome",
            ["signal", "outcome"],
            registry=self.registry,
        )
        self.items = Counter(
            "tsdev_ingest_items",
            "Spans, log records and data points accepted",
            ["signal"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "tsdev_ingest_rejected_items",
            "Items refused inside otherwise valid requests",
            ["signal"],
            registry=self.registry,
        )
        self.rows = Counter(
            "tsdev_store_rows", "Rows committed to the store", ["table"], registry=self.registry
        )
        self.batches = Counter(
            "tsdev_store_batches",
            "Inserts (one per table per batch)",
            ["table", "outcome"],
            registry=self.registry,
        )
        self.spooled_rows = Counter(
            "tsdev_spool_rows",
            "Rows written to the on-disk spool because the store failed",
            ["table"],
            registry=self.registry,
        )
        self.spool_replayed = Counter(
            "tsdev_spool_replayed_batches", "Spooled batches replayed into the store", registry=self.registry
        )
        self.flush_seconds = Histogram(
            "tsdev_store_flush_seconds",
            "Time to commit one batch to the store",
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
