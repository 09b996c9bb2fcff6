"""``ExportLogsServiceRequest`` bodies flattened into ``otel_logs`` by ClickHouse itself."""

from __future__ import annotations

from tsdev.ingest.decode.ids import SPAN_ID_BYTES, TRACE_ID_BYTES
from tsdev.ingest.engine.sql import (
    ANY_VALUE,
    KEY_KINDS,
    KEY_VALUES,
    SCALAR_KEY_VALUES,
    SCALAR_VALUE,
    VALUE_KIND,
    Flattening,
    attribute_map,
    attributes_flat,
    body_flat,
    optional_hex_id,
    optional_id_valid,
    service_name,
    timestamp,
    value_text,
)


def _structure(key_values: str, any_value: str) -> str:
    """An ``ExportLogsServiceRequest`` with every attribute list read as ``key_values`` and
    every body as ``any_value``."""
    record = (
        "Tuple(time_unix_nano UInt64, observed_time_unix_nano UInt64, severity_number Int32,"
        f" severity_text String, body {any_value}, attributes {key_values}, flags UInt32,"
        " trace_id String, span_id String, event_name String)"
    )
    return (
        f"resource_logs Array(Tuple(resource Tuple(attributes {key_values}), schema_url String,"
        f" scope_logs Array(Tuple(scope Tuple(name String, version String, attributes {key_values}),"
        f" schema_url String, log_records Array({record})))))"
    )


_CHECK_STRUCTURE = (
    f"resource_logs Array(Tuple(resource Tuple(attributes {KEY_KINDS}),"
    f" scope_logs Array(Tuple(scope Tuple(attributes {KEY_KINDS}), log_records Array(Tuple(body {VALUE_KIND},"
    f" attributes {KEY_KINDS}, trace_id String, span_id String))))))"
)


def _flat(*, scalar_read: bool) -> str:
    """Ids of a valid length, bodies and attributes without arrays, key-value lists or repeated
    keys; other requests take the Python path, which also says what it refuses."""

    def attributes(key_values: str) -> str:
        return attributes_flat(key_values, scalar_read=scalar_read)

    record = " AND ".join(
        [
            optional_id_valid("it.trace_id", TRACE_ID_BYTES),
            optional_id_valid("it.span_id", SPAN_ID_BYTES),
            body_flat("it.body", scalar_read=scalar_read),
            attributes("it.attributes"),
        ]
    )
    return (
        f"arrayAll(res -> {attributes('res.resource.attributes')}"
        f" AND arrayAll(sc -> {attributes('sc.scope.attributes')}"
        f" AND arrayAll(it -> {record}, sc.log_records), res.scope_logs), resource_logs)"
    )


LOGS = Flattening(
    message="ExportLogsServiceRequest",
    structure=_structure(KEY_VALUES, ANY_VALUE),
    scalar_structure=_structure(SCALAR_KEY_VALUES, SCALAR_VALUE),
    resources="resource_logs",
    scopes="scope_logs",
    items="log_records",
    flat=_flat(scalar_read=False),
    check_structure=_CHECK_STRUCTURE,
    flat_when_scalar=_flat(scalar_read=True),
    resource_columns={
        "resource_attributes": attribute_map("res.resource.attributes"),
        "service": service_name("resource_attributes"),
        "resource_schema_url": "res.schema_url",
    },
    scope_columns={
        "scope_schema_url": "sc.schema_url",
        "scope_name": "sc.scope.name",
        "scope_version": "sc.scope.version",
        "scope_attributes": attribute_map("sc.scope.attributes"),
    },
    columns={
        # A record without its own time is placed at the time the SDK observed it.
        "Timestamp": timestamp("if(it.time_unix_nano = 0, it.observed_time_unix_nano, it.time_unix_nano)"),
        "TraceId": optional_hex_id("it.trace_id", TRACE_ID_BYTES),
        "SpanId": optional_hex_id("it.span_id", SPAN_ID_BYTES),
        "TraceFlags": "bitAnd(it.flags, 255)",
        "SeverityText": "it.severity_text",
        "SeverityNumber": "least(greatest(it.severity_number, 0), 255)",
        "ServiceName": "service",
        "Body": value_text("it.body"),
        "ResourceSchemaUrl": "resource_schema_url",
        "ResourceAttributes": "resource_attributes",
        "ScopeSchemaUrl": "scope_schema_url",
        "ScopeName": "scope_name",
        "ScopeVersion": "scope_version",
        "ScopeAttributes": "scope_attributes",
        "LogAttributes": attribute_map("it.attributes"),
        "EventName": "it.event_name",
    },
)
