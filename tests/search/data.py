"""A small, fixed world of telemetry sent to the in-process server the way applications send it.

Spans go through the OpenTelemetry SDK and its OTLP/HTTP exporter (a simple processor, so each
export returns once the server has stored the span); logs and metrics go as OTLP/JSON bodies so
their values are exact. Times are relative to now, so the API's default range (the last hour)
covers everything.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

MS = 1_000_000


@dataclass
class World:
    now_ns: int
    ok_trace: str
    error_trace: str
    health_trace: str
    error_charge_span: str


def _providers(otlp_url: str) -> dict[str, TracerProvider]:
    providers = {}
    for service in ("frontend", "payments"):
        provider = TracerProvider(
            resource=Resource.create({"service.name": service, "deployment.environment": "test"})
        )
        provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp_url}/v1/traces")))
        providers[service] = provider
    return providers


def _checkout(providers: dict[str, TracerProvider], start: int, total_ms: int, fail: bool) -> tuple[str, str]:
    """frontend GET /checkout -> frontend POST /pay (client) -> payments charge (server)."""
    front = providers["frontend"].get_tracer("shop")
    pay = providers["payments"].get_tracer("payments", "2.0")
    root = front.start_span(
        "GET /checkout",
        kind=SpanKind.SERVER,
        start_time=start,
        attributes={"http.request.method": "GET", "http.response.status_code": 500 if fail else 200},
    )
    root_ctx = trace.set_span_in_context(root)
    client = front.start_span("POST /pay", context=root_ctx, kind=SpanKind.CLIENT, start_time=start + 5 * MS)
    charge = pay.start_span(
        "charge", context=trace.set_span_in_context(client), kind=SpanKind.SERVER, start_time=start + 10 * MS,
        attributes={"payment.method": "paypal" if fail else "card", "retries": 2, "amount": 12.5,
                    "fraud.checked": True},
    )  # fmt: skip
    charge.add_event("cache miss", {"cache.key": "user:42"}, timestamp=start + 12 * MS)
    if fail:
        charge.set_status(Status(StatusCode.ERROR, "card declined"))
    charge.end(end_time=start + (total_ms - 20) * MS)
    client.end(end_time=start + (total_ms - 10) * MS)
    root.end(end_time=start + total_ms * MS)
    return format(root.get_span_context().trace_id, "032x"), format(charge.get_span_context().span_id, "016x")


def send_traces(otlp_url: str, now_ns: int) -> World:
    providers = _providers(otlp_url)
    ok_trace, _ = _checkout(providers, now_ns - 600_000 * MS, 120, fail=False)
    error_trace, error_span = _checkout(providers, now_ns - 300_000 * MS, 300, fail=True)
    front = providers["frontend"].get_tracer("shop")
    ok_context = trace.SpanContext(int(ok_trace, 16), 1, is_remote=True)
    health = front.start_span("GET /health", kind=SpanKind.SERVER, start_time=now_ns - 60_000 * MS,
                              links=[Link(ok_context, {"link.reason": "retry of"})])  # fmt: skip
    health.end(end_time=now_ns - 60_000 * MS + 1 * MS)
    for provider in providers.values():
        provider.shutdown()
    return World(
        now_ns, ok_trace, error_trace, format(health.get_span_context().trace_id, "032x"), error_span
    )


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def attributes(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": key, "value": _value(value)} for key, value in values.items()]


def log_body(service: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceLogs": [
            {
                "resource": {"attributes": attributes({"service.name": service, "host.name": "node-1"})},
                "scopeLogs": [{"scope": {"name": "app"}, "logRecords": records}],
            }
        ]
    }


def log_record(
    time_ns: int, severity: int, text: str, body: str, trace_id: str = "", span_id: str = "", **attrs: Any
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "timeUnixNano": str(time_ns),
        "severityNumber": severity,
        "severityText": text,
        "body": {"stringValue": body},
        "attributes": attributes(attrs),
    }
    if trace_id:
        record["traceId"] = trace_id
    if span_id:
        record["spanId"] = span_id
    return record


def post_json(url: str, body: dict[str, Any]) -> None:
    response = httpx.post(url, json=body, timeout=30)
    response.raise_for_status()


def send_logs(otlp_url: str, world: World) -> None:
    now = world.now_ns
    post_json(f"{otlp_url}/v1/logs", log_body("frontend", [
        log_record(now - 600_000 * MS, 9, "INFO", "checkout started for user 42", world.ok_trace,
                   **{"user.id": "42"}),
        log_record(now - 500_000 * MS, 5, "DEBUG", "cache warm: 17 entries"),
        log_record(now - 400_000 * MS, 13, "WARN", "slow response from payments"),
    ]))  # fmt: skip
    post_json(f"{otlp_url}/v1/logs", log_body("payments", [
        log_record(now - 300_000 * MS, 17, "ERROR", "Connection refused by upstream db-1",
                   world.error_trace, world.error_charge_span, **{"db.system": "postgresql"}),
        log_record(now - 290_000 * MS, 9, "INFO", "refused connection pool resized"),
        log_record(now - 280_000 * MS, 9, "INFO", "x' OR 1=1; DROP TABLE otel_logs; --"),
    ]))  # fmt: skip


def send_metrics(otlp_url: str, now_ns: int) -> None:
    minute = 60_000 * MS
    base = now_ns - now_ns % minute - 10 * minute

    def point(offset: int, **values: Any) -> dict[str, Any]:
        return {"timeUnixNano": str(base + offset), "startTimeUnixNano": str(base - minute), **values}

    metrics = [
        {"name": "queue.depth", "unit": "1", "description": "Jobs waiting", "gauge": {"dataPoints": [
            point(0, asDouble=4.0, attributes=attributes({"queue": "mail"})),
            point(30_000 * MS, asDouble=8.0, attributes=attributes({"queue": "mail"})),
            point(0, asDouble=1.0, attributes=attributes({"queue": "sms"})),
        ]}},
        {"name": "requests.total", "unit": "1", "sum": {"aggregationTemporality": 2, "isMonotonic": True,
                                                         "dataPoints": [
            point(0, asDouble=100.0, attributes=attributes({"route": "/a"})),
            point(30_000 * MS, asDouble=160.0, attributes=attributes({"route": "/a"})),
        ]}},
        {"name": "request.duration", "unit": "ms", "histogram": {"aggregationTemporality": 1, "dataPoints": [
            point(0, count="10", sum=500.0, bucketCounts=["0", "10", "0"], explicitBounds=[10.0, 100.0],
                  attributes=attributes({"route": "/a"})),
        ]}},
    ]  # fmt: skip
    post_json(f"{otlp_url}/v1/metrics", {"resourceMetrics": [{
        "resource": {"attributes": attributes({"service.name": "frontend"})},
        "scopeMetrics": [{"scope": {"name": "app"}, "metrics": metrics}],
    }]})  # fmt: skip


def seed(otlp_url: str) -> World:
    world = send_traces(otlp_url, time.time_ns())
    send_logs(otlp_url, world)
    send_metrics(otlp_url, world.now_ns)
    return world
