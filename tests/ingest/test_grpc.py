"""OTLP/gRPC with the real OpenTelemetry gRPC exporters, status codes per the OTLP specification,
and back-pressure on both transports."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind

from tests.support.otlp import trace_request
from tests.support.rows import count, fetch
from tests.support.server import InProcessServer

RESOURCE = Resource.create({"service.name": "grpc-shop"})
TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def _request(name: str, spans: int = 1, first_id: int = 1) -> ExportTraceServiceRequest:
    return trace_request("raw", name, spans, first_id=first_id, start_ns=1, duration_ns=1, attributes=10)


@pytest.fixture
def channel(server: InProcessServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.grpc_endpoint) as open_channel:
        yield open_channel


def test_sdk_grpc_exporters_with_gzip(server: InProcessServer) -> None:
    tracer_provider = TracerProvider(resource=RESOURCE)
    tracer_provider.add_span_processor(
        SimpleSpanProcessor(
            OTLPSpanExporter(endpoint=server.grpc_endpoint, insecure=True, compression=grpc.Compression.Gzip)
        )
    )
    with tracer_provider.get_tracer("grpc.test").start_as_current_span(
        "GET /cart", kind=SpanKind.SERVER
    ) as span:
        span.set_attribute("cart.items", 3)
    tracer_provider.shutdown()

    logger_provider = LoggerProvider(resource=RESOURCE)
    logger_provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=server.grpc_endpoint, insecure=True))
    )
    logger_provider.get_logger("grpc.test").emit(body="cart checked out", severity_text="INFO")
    logger_provider.shutdown()

    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=server.grpc_endpoint, insecure=True), export_interval_millis=3_600_000
    )
    meter_provider = MeterProvider(resource=RESOURCE, metric_readers=[reader])
    meter_provider.get_meter("grpc.test").create_counter("carts").add(2)
    meter_provider.shutdown()

    (span_row,) = fetch(server.store, "otel_traces")
    assert (span_row["SpanName"], span_row["SpanKind"], span_row["ServiceName"]) == (
        "GET /cart",
        "Server",
        "grpc-shop",
    )
    assert span_row["SpanAttributes"] == {"cart.items": "3"}
    (log_row,) = fetch(server.store, "otel_logs")
    assert (log_row["Body"], log_row["SeverityText"], log_row["ServiceName"]) == (
        "cart checked out",
        "INFO",
        "grpc-shop",
    )
    (metric_row,) = fetch(server.store, "otel_metrics_sum")
    assert (metric_row["MetricName"], metric_row["Value"]) == ("carts", 2.0)


def test_malformed_message_is_invalid_argument(server: InProcessServer, channel: grpc.Channel) -> None:
    export = channel.unary_unary(TRACE_EXPORT)
    with pytest.raises(grpc.RpcError) as error:
        export(b"\xff\xff\xff\xff\x0f", timeout=10)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a valid ExportTraceServiceRequest" in error.value.details()


def test_partial_success_in_the_response(server: InProcessServer, channel: grpc.Channel) -> None:
    request = _request("mixed", spans=2)
    request.resource_spans[0].scope_spans[0].spans[1].trace_id = b"short"
    export = channel.unary_unary(
        TRACE_EXPORT,
        request_serializer=ExportTraceServiceRequest.SerializeToString,
        response_deserializer=ExportTraceServiceResponse.FromString,
    )
    response = export(request, timeout=10)
    assert response.partial_success.rejected_spans == 1
    assert "trace_id must be 16 bytes" in response.partial_success.error_message
    assert count(server.store, "otel_traces", "SpanName = 'mixed'") == 1


def test_oversized_message_is_resource_exhausted(fresh_store) -> None:
    server = InProcessServer(fresh_store, max_request_bytes=16 * 1024).start()
    try:
        with grpc.insecure_channel(server.grpc_endpoint) as open_channel:
            export = open_channel.unary_unary(TRACE_EXPORT)
            with pytest.raises(grpc.RpcError) as error:
                export(_request("big", spans=200).SerializeToString(), timeout=10)
        assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert count(server.store, "otel_traces") == 0
    finally:
        server.stop()


def test_overload_is_refused_with_retry_hints_and_acknowledged_data_is_kept(fresh_store) -> None:
    """With a one-byte budget only one request may be in flight; the rest are refused at once."""
    server = InProcessServer(fresh_store, max_inflight_bytes=1).start()
    body = _request("flood", spans=3000).SerializeToString()
    try:

        def over_http(n: int) -> tuple[str, int, str | None]:
            response = httpx.post(
                f"{server.otlp_url}/v1/traces",
                content=_request(f"h{n}", 3000, 1).SerializeToString(),
                headers={"Content-Type": "application/x-protobuf"},
                timeout=60,
            )
            return f"h{n}", response.status_code, response.headers.get("retry-after")

        def over_grpc(n: int) -> tuple[str, str, bytes | None]:
            with grpc.insecure_channel(server.grpc_endpoint) as open_channel:
                try:
                    open_channel.unary_unary(TRACE_EXPORT)(
                        _request(f"g{n}", 3000, 1).SerializeToString(), timeout=60
                    )
                except grpc.RpcError as error:
                    details = dict(error.trailing_metadata() or ()).get("grpc-status-details-bin")
                    return f"g{n}", error.code().name, details
                return f"g{n}", "OK", None

        with ThreadPoolExecutor(8) as pool:
            http_results = list(pool.map(over_http, range(8)))
            grpc_results = list(pool.map(over_grpc, range(8)))
        assert len(body) > 1
        assert {status for _, status, _ in http_results} <= {200, 429}
        assert any(status == 429 for _, status, _ in http_results)
        assert all(retry == "5" for _, status, retry in http_results if status == 429)
        assert {code for _, code, _ in grpc_results} <= {"OK", "UNAVAILABLE"}
        assert any(code == "UNAVAILABLE" for _, code, _ in grpc_results)
        for _, code, details in grpc_results:
            if code == "UNAVAILABLE":
                status = status_pb2.Status.FromString(details)
                retry = error_details_pb2.RetryInfo()
                assert status.details[0].Unpack(retry)
                assert retry.retry_delay.seconds == 5
        acknowledged = [name for name, status, _ in http_results if status == 200]
        acknowledged += [name for name, code, _ in grpc_results if code == "OK"]
        assert acknowledged
        for name in acknowledged:
            assert count(server.store, "otel_traces", f"SpanName = '{name}'") == 3000
        assert httpx.get(f"{server.api_url}/healthz").status_code == 200
    finally:
        server.stop()
