"""``ExportTraceServiceRequest`` to ``otel_traces`` rows."""

from __future__ import annotations

import pyarrow as pa
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tsdev.core.store import tables
from tsdev.ingest.decode.anyvalue import attributes, service_name
from tsdev.ingest.decode.batch import MAP, TIMESTAMP, Decoded, TableRows, clamp_ns
from tsdev.ingest.decode.ids import SPAN_ID_BYTES, TRACE_ID_BYTES, optional_id, required_id

SPAN_KINDS = ("Unspecified", "Internal", "Server", "Client", "Producer", "Consumer")
STATUS_CODES = ("Unset", "Ok", "Error")

TRACES_SCHEMA = pa.schema(
    [
        ("Timestamp", TIMESTAMP),
        ("TraceId", pa.string()),
        ("SpanId", pa.string()),
        ("ParentSpanId", pa.string()),
        ("TraceState", pa.string()),
        ("SpanName", pa.string()),
        ("SpanKind", pa.string()),
        ("ServiceName", pa.string()),
        ("ResourceAttributes", MAP),
        ("ScopeName", pa.string()),
        ("ScopeVersion", pa.string()),
        ("SpanAttributes", MAP),
        ("Duration", pa.uint64()),
        ("StatusCode", pa.string()),
        ("StatusMessage", pa.string()),
        ("Events.Timestamp", pa.list_(TIMESTAMP)),
        ("Events.Name", pa.list_(pa.string())),
        ("Events.Attributes", pa.list_(MAP)),
        ("Links.TraceId", pa.list_(pa.string())),
        ("Links.SpanId", pa.list_(pa.string())),
        ("Links.TraceState", pa.list_(pa.string())),
        ("Links.Attributes", pa.list_(MAP)),
    ]
)


def _enum_name(names: tuple[str, ...], value: int) -> str:
    return names[value] if 0 <= value < len(names) else names[0]


def decode_traces(request: ExportTraceServiceRequest) -> Decoded:
    rows = TableRows(tables.TRACES, TRACES_SCHEMA)
    c = rows.columns
    accepted = rejected = 0
    errors: list[str] = []
    for resource_spans in request.resource_spans:
        resource_attributes = attributes(resource_spans.resource.attributes)
        service = service_name(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            for span in scope_spans.spans:
                try:
                    trace_id = required_id(span.trace_id, TRACE_ID_BYTES, "trace_id")
                    span_id = required_id(span.span_id, SPAN_ID_BYTES, "span_id")
                    parent_id = optional_id(span.parent_span_id, SPAN_ID_BYTES, "parent_span_id")
                    link_trace_ids = [
                        required_id(link.trace_id, TRACE_ID_BYTES, "link trace_id") for link in span.links
                    ]
                    link_span_ids = [
                        required_id(link.span_id, SPAN_ID_BYTES, "link span_id") for link in span.links
                    ]
                except ValueError as exc:
                    rejected += 1
                    errors.append(f"span {span.name!r}: {exc}")
                    continue
                start = clamp_ns(span.start_time_unix_nano)
                end = clamp_ns(span.end_time_unix_nano)
                c["Timestamp"].append(start)
                c["TraceId"].append(trace_id)
                c["SpanId"].append(span_id)
                c["ParentSpanId"].append(parent_id)
                c["TraceState"].append(span.trace_state)
                c["SpanName"].append(span.name)
                c["SpanKind"].append(_enum_name(SPAN_KINDS, span.kind))
                c["ServiceName"].append(service)
                c["ResourceAttributes"].append(resource_attributes)
                c["ScopeName"].append(scope.name)
                c["ScopeVersion"].append(scope.version)
                c["SpanAttributes"].append(attributes(span.attributes))
                c["Duration"].append(end - start if end > start else 0)
                c["StatusCode"].append(_enum_name(STATUS_CODES, span.status.code))
                c["StatusMessage"].append(span.status.message)
                c["Events.Timestamp"].append([clamp_ns(event.time_unix_nano) for event in span.events])
                c["Events.Name"].append([event.name for event in span.events])
                c["Events.Attributes"].append([attributes(event.attributes) for event in span.events])
                c["Links.TraceId"].append(link_trace_ids)
                c["Links.SpanId"].append(link_span_ids)
                c["Links.TraceState"].append([link.trace_state for link in span.links])
                c["Links.Attributes"].append([attributes(link.attributes) for link in span.links])
                accepted += 1
    return Decoded(rows=[rows], accepted=accepted, rejected=rejected, errors=errors)
