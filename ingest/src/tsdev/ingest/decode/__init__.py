"""OTLP requests to rows, column by column, in the OpenTelemetry Collector ClickHouse exporter's shape."""

from tsdev.ingest.decode.batch import Decoded, TableRows
from tsdev.ingest.decode.logs import decode_logs
from tsdev.ingest.decode.metrics import decode_metrics
from tsdev.ingest.decode.traces import decode_traces

__all__ = ["Decoded", "TableRows", "decode_logs", "decode_metrics", "decode_traces"]
