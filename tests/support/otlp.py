"""OTLP trace requests built directly from the protocol's messages, for tests that send raw bodies."""

from __future__ import annotations

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span


def trace_request(
    service: str,
    name: str,
    spans: int = 1,
    *,
    first_id: int = 1,
    start_ns: int = 1,
    duration_ns: int = 1,
    attributes: int = 0,
) -> ExportTraceServiceRequest:
    """One resource of ``service`` with ``spans`` spans called ``name``; span ``i`` has trace and span
    id ``first_id + i`` and ``attributes`` string attributes ``k0``, ``k1``, ... of 20 characters."""
    resource = Resource(attributes=[KeyValue(key="service.name", value=AnyValue(string_value=service))])
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=resource,
                scope_spans=[
                    ScopeSpans(
                        spans=[
                            Span(
                                trace_id=(first_id + i).to_bytes(16, "big"),
                                span_id=(first_id + i).to_bytes(8, "big"),
                                name=name,
                                start_time_unix_nano=start_ns,
                                end_time_unix_nano=start_ns + duration_ns,
                                attributes=[
                                    KeyValue(key=f"k{k}", value=AnyValue(string_value="v" * 20))
                                    for k in range(attributes)
                                ],
                            )
                            for i in range(spans)
                        ]
                    )
                ],
            )
        ]
    )
