"""``ExportLogsServiceRequest`` to ``otel_logs`` rows."""

from __future__ import annotations

import pyarrow as pa
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from tsdev.core.store import tables
from tsdev.ingest.decode.anyvalue import attributes, service_name, to_text
from tsdev.ingest.decode.batch import MAP, TIMESTAMP, Decoded, TableRows, clamp_ns
from tsdev.ingest.decode.ids import SPAN_ID_BYTES, TRACE_ID_BYTES, optional_id

LOGS_SCHEMA = pa.schema(
    [
        ("Timestamp", TIMESTAMP),
        ("TraceId", pa.string()),
        ("SpanId", pa.string()),
        ("TraceFlags", pa.uint8()),
        ("SeverityText", pa.string()),
        ("SeverityNumber", pa.uint8()),
        ("ServiceName", pa.string()),
        ("Body", pa.string()),
        ("ResourceSchemaUrl", pa.string()),
        ("ResourceAttributes", MAP),
        ("ScopeSchemaUrl", pa.string()),
        ("ScopeName", pa.string()),
        ("ScopeVersion", pa.string()),
        ("ScopeAttributes", MAP),
        ("LogAttributes", MAP),
        ("EventName", pa.string()),
    ]
)


def decode_logs(request: ExportLogsServiceRequest) -> Decoded:
    rows = TableRows(tables.LOGS, LOGS_SCHEMA)
    c = rows.columns
    accepted = rejected = 0
    errors: list[str] = []
    for resource_logs in request.resource_logs:
        resource_attributes = attributes(resource_logs.resource.attributes)
        service = service_name(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            scope = scope_logs.scope
            scope_attributes = attributes(scope.attributes)
            for record in scope_logs.log_records:
                try:
                    trace_id = optional_id(record.trace_id, TRACE_ID_BYTES, "trace_id")
                    span_id = optional_id(record.span_id, SPAN_ID_BYTES, "span_id")
                except ValueError as exc:
                    rejected += 1
                    errors.append(f"log record: {exc}")
                    continue
                # A record without its own time is placed at the time the SDK observed it.
                c["Timestamp"].append(clamp_ns(record.time_unix_nano or record.observed_time_unix_nano))
                c["TraceId"].append(trace_id)
                c["SpanId"].append(span_id)
                c["TraceFlags"].append(record.flags & 0xFF)
                c["SeverityText"].append(record.severity_text)
                c["SeverityNumber"].append(min(max(int(record.severity_number), 0), 255))
                c["ServiceName"].append(service)
                c["Body"].append(to_text(record.body))
                c["ResourceSchemaUrl"].append(resource_logs.schema_url)
                c["ResourceAttributes"].append(resource_attributes)
                c["ScopeSchemaUrl"].append(scope_logs.schema_url)
                c["ScopeName"].append(scope.name)
                c["ScopeVersion"].append(scope.version)
                c["ScopeAttributes"].append(scope_attributes)
                c["LogAttributes"].append(attributes(record.attributes))
                c["EventName"].append(record.event_name)
                accepted += 1
    return Decoded(rows=[rows], accepted=accepted, rejected=rejected, errors=errors)
