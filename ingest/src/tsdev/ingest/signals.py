"""The three OTLP signals: their request and response messages and decoders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from tsdev.core.store import tables
from tsdev.ingest.decode import Decoded, decode_logs, decode_metrics, decode_traces
from tsdev.ingest.decode.otlp_json import InvalidJson, parse_json
from tsdev.ingest.engine import ENGINE_TABLES, EngineRows


class BadRequest(ValueError):
    """The request body cannot be decoded at all."""


@dataclass(frozen=True)
class Signal:
    name: str
    request_type: type[Message]
    response_type: type[Message]
    rejected_field: str
    decoder: Callable[[Any], Decoded]
    table: str | None = None
    """The one table the engine path fills for this signal, when it can."""
    count_items: Callable[[Any], int] = lambda request: 0

    def parse(self, body: bytes, *, json_body: bool) -> Message:
        request = self.request_type()
        if json_body:
            try:
                return parse_json(body, request)
            except InvalidJson as exc:
                raise BadRequest(str(exc)) from None
        try:
            request.ParseFromString(body)
        except (DecodeError, RecursionError, ValueError) as exc:
            raise BadRequest(f"body is not a valid {self.request_type.DESCRIPTOR.name}: {exc}") from None
        return request

    def decode(self, body: bytes, *, json_body: bool) -> Decoded:
        return self.decoder(self.parse(body, json_body=json_body))

    @property
    def engine_can_decode(self) -> bool:
        return self.table in ENGINE_TABLES

    def decode_for_engine(self, body: bytes) -> Decoded:
        """Validate and count a protobuf body, leaving its rows to the engine (see
        :mod:`tsdev.ingest.engine`)."""
        if self.table is None:
            raise ValueError(f"the engine path does not decode {self.name}")
        count = self.count_items(self.parse(body, json_body=False))
        rows = EngineRows(self.table, body, count, lambda kept: self.decode(kept, json_body=False))
        return Decoded(rows=[], accepted=count, engine_rows=[rows])

    def response(self, decoded: Decoded) -> Message:
        response = self.response_type()
        if decoded.rejected or decoded.errors:
            partial = response.partial_success  # type: ignore[attr-defined]
            setattr(partial, self.rejected_field, decoded.rejected)
            partial.error_message = decoded.error_message
        return response


TRACES = Signal(
    "traces",
    trace_service_pb2.ExportTraceServiceRequest,
    trace_service_pb2.ExportTraceServiceResponse,
    "rejected_spans",
    decode_traces,
    tables.TRACES,
    lambda request: sum(
        len(scope.spans) for resource in request.resource_spans for scope in resource.scope_spans
    ),
)
LOGS = Signal(
    "logs",
    logs_service_pb2.ExportLogsServiceRequest,
    logs_service_pb2.ExportLogsServiceResponse,
    "rejected_log_records",
    decode_logs,
    tables.LOGS,
    lambda request: sum(
        len(scope.log_records) for resource in request.resource_logs for scope in resource.scope_logs
    ),
)
METRICS = Signal(
    "metrics",
    metrics_service_pb2.ExportMetricsServiceRequest,
    metrics_service_pb2.ExportMetricsServiceResponse,
    "rejected_data_points",
    decode_metrics,
)
SIGNALS = {signal.name: signal for signal in (TRACES, LOGS, METRICS)}
