"""Realistic OTLP requests for the ingest benchmark: 1000 spans per request with 10 attributes and a
few events each, and log requests with bodies and attributes. Seeded, so runs compare."""

from __future__ import annotations

import random
import time

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs, SeverityNumber
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

SERVICES = [f"service-{n}" for n in range(20)]
ROUTES = ["/orders", "/orders/{id}", "/cart", "/checkout", "/users/{id}", "/search", "/catalog"]


def _kv(key: str, value: str | int | float | bool) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


def _resource(rng: random.Random) -> Resource:
    service = rng.choice(SERVICES)
    return Resource(
        attributes=[
            _kv("service.name", service),
            _kv("service.version", "1.4.2"),
            _kv("host.name", f"host-{rng.randrange(8)}"),
            _kv("deployment.environment", "prod"),
            _kv("telemetry.sdk.language", "python"),
        ]
    )


def trace_request(seed: int, spans: int = 1000) -> bytes:
    rng = random.Random(seed)
    now = time.time_ns()
    out: list[Span] = []
    trace_id = rng.randbytes(16)
    for n in range(spans):
        if n % 20 == 0:
            trace_id = rng.randbytes(16)
        start = now - rng.randrange(60_000_000_000)
        route = rng.choice(ROUTES)
        span = Span(
            trace_id=trace_id,
            span_id=rng.randbytes(8),
            parent_span_id=b"" if n % 20 == 0 else rng.randbytes(8),
            name=f"GET {route}",
            kind=Span.SpanKind.SPAN_KIND_SERVER if n % 20 == 0 else Span.SpanKind.SPAN_KIND_CLIENT,
            start_time_unix_nano=start,
            end_time_unix_nano=start + rng.randrange(100_000, 50_000_000),
            attributes=[
                _kv("http.request.method", "GET"),
                _kv("http.route", route),
                _kv("url.full", f"https://api{route}?q={n}"),
                _kv("http.response.status_code", 200),
                _kv("server.address", "api.internal"),
                _kv("network.protocol.version", "1.1"),
                _kv("user_agent.original", "Mozilla/5.0 (X11; Linux)"),
                _kv("db.system", "postgresql"),
                _kv("retry", n % 7 == 0),
                _kv("ratio", rng.random()),
            ],
            status=Status(
                code=Status.StatusCode.STATUS_CODE_ERROR
                if n % 50 == 0
                else Status.StatusCode.STATUS_CODE_UNSET
            ),
        )
        if n % 4 == 0:
            span.events.add(time_unix_nano=start + 1000, name="cache miss", attributes=[_kv("key", f"k{n}")])
        out.append(span)
    request = ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=_resource(rng),
                scope_spans=[ScopeSpans(scope=InstrumentationScope(name="bench", version="1.0"), spans=out)],
            )
        ]
    )
    return request.SerializeToString()


def log_request(seed: int, records: int = 1000) -> bytes:
    rng = random.Random(seed)
    now = time.time_ns()
    out = [
        LogRecord(
            time_unix_nano=now - rng.randrange(60_000_000_000),
            severity_number=SeverityNumber.SEVERITY_NUMBER_INFO,
            severity_text="INFO",
            body=AnyValue(
                string_value=f"order {rng.randrange(10**6)} took {rng.randrange(500)} ms for u-{n}"
            ),
            trace_id=rng.randbytes(16),
            span_id=rng.randbytes(8),
            attributes=[
                _kv("logger.name", "shop.orders"),
                _kv("thread.id", n % 16),
                _kv("code.function", "process"),
            ],
        )
        for n in range(records)
    ]
    request = ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=_resource(rng),
                scope_logs=[ScopeLogs(scope=InstrumentationScope(name="bench"), log_records=out)],
            )
        ]
    )
    return request.SerializeToString()
