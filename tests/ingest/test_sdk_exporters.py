"""The real OpenTelemetry Python SDK, exporting OTLP/HTTP protobuf, lands field for field."""

from __future__ import annotations

import logging
import time

from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.metrics import Observation
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from tests.support.rows import fetch

RESOURCE = Resource.create(
    {"service.name": "checkout", "service.version": "1.4.2", "deployment.environment": "test"}
)


def test_spans_from_the_sdk(server) -> None:
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{server.otlp_url}/v1/traces"))
    )
    tracer = provider.get_tracer("shop.orders", "2.0.1")
    with tracer.start_as_current_span("GET /orders", kind=SpanKind.SERVER) as root:
        root.set_attributes(
            {
                "http.request.method": "GET",
                "http.response.status_code": 200,
                "sampled": True,
                "ratio": 0.25,
                "tags": ["a", "b"],
                "ids": [1, 2, 3],
            }
        )
        linked = root.get_span_context()
        with tracer.start_as_current_span(
            "SELECT orders", kind=SpanKind.CLIENT, links=[Link(linked, {"link.kind": "retry"})]
        ) as child:
            child.add_event("cache miss", {"key": "orders:42", "attempt": 2})
            child.record_exception(TimeoutError("db timed out"))
            child.set_status(Status(StatusCode.ERROR, "db timed out"))
    provider.shutdown()

    spans = {span["SpanName"]: span for span in fetch(server.store, "otel_traces")}
    assert set(spans) == {"GET /orders", "SELECT orders"}
    parent, child_row = spans["GET /orders"], spans["SELECT orders"]
    root_context = linked
    assert parent["TraceId"] == format(root_context.trace_id, "032x")
    assert parent["SpanId"] == format(root_context.span_id, "016x")
    assert parent["ParentSpanId"] == ""
    assert child_row["ParentSpanId"] == parent["SpanId"]
    assert child_row["TraceId"] == parent["TraceId"]
    assert parent["SpanKind"] == "Server" and child_row["SpanKind"] == "Client"
    assert parent["ServiceName"] == "checkout"
    assert parent["ResourceAttributes"]["service.version"] == "1.4.2"
    assert parent["ResourceAttributes"]["deployment.environment"] == "test"
    assert parent["ResourceAttributes"]["telemetry.sdk.language"] == "python"
    assert (parent["ScopeName"], parent["ScopeVersion"]) == ("shop.orders", "2.0.1")
    assert parent["SpanAttributes"] == {
        "http.request.method": "GET",
        "http.response.status_code": "200",
        "sampled": "true",
        "ratio": "0.25",
        "tags": '["a","b"]',
        "ids": "[1,2,3]",
    }
    assert parent["StatusCode"] == "Unset"
    assert child_row["StatusCode"] == "Error"
    assert child_row["StatusMessage"] == "db timed out"
    assert child_row["Events.Name"] == ["cache miss", "exception"]
    assert child_row["Events.Attributes"][0] == {"key": "orders:42", "attempt": "2"}
    assert child_row["Events.Attributes"][1]["exception.type"] == "TimeoutError"
    assert child_row["Events.Attributes"][1]["exception.message"] == "db timed out"
    assert all(child_row["Timestamp"] <= t for t in child_row["Events.Timestamp"])
    assert child_row["Links.TraceId"] == [parent["TraceId"]]
    assert child_row["Links.SpanId"] == [parent["SpanId"]]
    assert child_row["Links.Attributes"] == [{"link.kind": "retry"}]
    assert 0 < child_row["Duration"] <= parent["Duration"]
    assert abs(parent["Timestamp"] - time.time_ns()) < 120 * 10**9


def test_logs_from_the_sdk_carry_trace_context(server) -> None:
    logger_provider = LoggerProvider(resource=RESOURCE)
    logger_provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{server.otlp_url}/v1/logs"))
    )
    tracer_provider = TracerProvider(resource=RESOURCE)
    handler = LoggingHandler(level=logging.INFO, logger_provider=logger_provider)
    app_logger = logging.getLogger("shop.payments")
    app_logger.addHandler(handler)
    app_logger.setLevel(logging.INFO)
    try:
        with tracer_provider.get_tracer("t").start_as_current_span("charge") as span:
            app_logger.warning("payment %s declined", "p-17", extra={"order.id": 42, "amount": 9.5})
            context = span.get_span_context()
        app_logger.info("outside any span")
    finally:
        app_logger.removeHandler(handler)
        logger_provider.shutdown()

    records = {row["Body"]: row for row in fetch(server.store, "otel_logs")}
    declined = records["payment p-17 declined"]
    assert declined["SeverityText"] == "WARN"
    assert declined["SeverityNumber"] == 13
    assert declined["TraceId"] == format(context.trace_id, "032x")
    assert declined["SpanId"] == format(context.span_id, "016x")
    assert declined["TraceFlags"] == int(context.trace_flags) and declined["TraceFlags"] & 1
    assert declined["ServiceName"] == "checkout"
    assert declined["LogAttributes"]["order.id"] == "42"
    assert declined["LogAttributes"]["amount"] == "9.5"
    assert declined["ScopeName"] == "shop.payments"
    outside = records["outside any span"]
    assert (outside["TraceId"], outside["SpanId"], outside["SeverityNumber"]) == ("", "", 9)


def test_metrics_from_the_sdk(server) -> None:
    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=f"{server.otlp_url}/v1/metrics"), export_interval_millis=3_600_000
    )
    provider = MeterProvider(
        resource=RESOURCE,
        metric_readers=[reader],
        views=[View(instrument_name="payload.size", aggregation=ExponentialBucketHistogramAggregation())],
    )
    meter = provider.get_meter("shop.metrics", "0.3")
    meter.create_counter("orders.created", unit="{order}", description="Orders placed").add(
        3, {"region": "eu"}
    )
    meter.create_up_down_counter("queue.depth").add(-2)
    latency = meter.create_histogram("http.server.duration", unit="ms")
    for value in (3, 7, 250):
        latency.record(value, {"route": "/orders"})
    meter.create_histogram("payload.size", unit="By").record(512)
    meter.create_observable_gauge("cpu.temp", callbacks=[lambda _options: [Observation(61.5, {"core": "0"})]])
    provider.shutdown()

    sums = {row["MetricName"]: row for row in fetch(server.store, "otel_metrics_sum")}
    created = sums["orders.created"]
    assert (created["Value"], created["IsMonotonic"], created["AggregationTemporality"]) == (3.0, True, 2)
    assert (created["MetricUnit"], created["MetricDescription"]) == ("{order}", "Orders placed")
    assert created["Attributes"] == {"region": "eu"}
    assert created["ScopeName"] == "shop.metrics" and created["ScopeVersion"] == "0.3"
    assert sums["queue.depth"]["Value"] == -2.0 and sums["queue.depth"]["IsMonotonic"] is False
    (histogram,) = fetch(server.store, "otel_metrics_histogram")
    assert histogram["MetricName"] == "http.server.duration"
    assert (histogram["Count"], histogram["Sum"], histogram["Min"], histogram["Max"]) == (
        3,
        260.0,
        3.0,
        250.0,
    )
    assert sum(histogram["BucketCounts"]) == 3
    assert len(histogram["BucketCounts"]) == len(histogram["ExplicitBounds"]) + 1
    (exponential,) = fetch(server.store, "otel_metrics_exp_histogram")
    assert (exponential["Count"], exponential["Sum"]) == (1, 512.0)
    assert sum(exponential["PositiveBucketCounts"]) == 1
    (gauge,) = fetch(server.store, "otel_metrics_gauge")
    assert (gauge["MetricName"], gauge["Value"], gauge["Attributes"]) == ("cpu.temp", 61.5, {"core": "0"})
    assert {row["ServiceName"] for row in sums.values()} == {"checkout"}
