"""The three OTLP signals: their request and response messages and decoders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from tsdev.ingest.decode import Decoded, decode_logs, decode_metrics, decode_traces
from tsdev.ingest.decode.otlp_json import InvalidJson, parse_json


class BadRequest(ValueError):
    """The request body cannot be decoded at all."""


@dataclass(frozen=True)
class Signal:
    name: str
    request_type: type[Message]
    response_type: type[Message]
    rejected_field: str
    decoder: Callable[[Any], Decoded]

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
)
LOGS = Signal(
    "logs",
    logs_service_pb2.ExportLogsServiceRequest,
    logs_service_pb2.ExportLogsServiceResponse,
    "rejected_log_records",
    decode_logs,
)
METRICS = Signal(
    "metrics",
    metrics_service_pb2.ExportMetricsServiceRequest,
    metrics_service_pb2.ExportMetricsServiceResponse,
    "rejected_data_points",
    decode_metrics,
)
SIGNALS = {signal.name: signal for signal in (TRACES, LOGS, METRICS)}
