"""``ExportTraceServiceRequest`` bodies flattened into ``otel_traces`` by ClickHouse itself."""

from __future__ import annotations

from tsdev.ingest.decode.ids import SPAN_ID_BYTES, TRACE_ID_BYTES
from tsdev.ingest.decode.traces import SPAN_KINDS, STATUS_CODES
from tsdev.ingest.engine.sql import (
    KEY_KINDS,
    KEY_VALUES,
    SCALAR_KEY_VALUES,
    Flattening,
    attribute_map,
    attributes_flat,
    clamped_ns,
    enum_name,
    hex_id,
    optional_hex_id,
    optional_id_valid,
    required_id,
    service_name,
    timestamp,
)


def _structure(key_values: str) -> str:
    """An ``ExportTraceServiceRequest`` with every attribute list read as ``key_values``."""
    event = f"Tuple(time_unix_nano UInt64, name String, attributes {key_values})"
    link = f"Tuple(trace_id String, span_id String, trace_state String, attributes {key_values})"
    span = (
        "Tuple(trace_id String, span_id String, trace_state String, parent_span_id String, name String,"
        " kind Int32, start_time_unix_nano UInt64, end_time_unix_nano UInt64,"
        f" attributes {key_values}, events Array({event}), links Array({link}),"
        " status Tuple(message String, code Int32))"
    )
    return (
        f"resource_spans Array(Tuple(resource Tuple(attributes {key_values}),"
        f" scope_spans Array(Tuple(scope Tuple(name String, version String), spans Array({span})))))"
    )


_CHECK_STRUCTURE = (
    f"resource_spans Array(Tuple(resource Tuple(attributes {KEY_KINDS}), scope_spans Array(Tuple(spans"
    f" Array(Tuple(trace_id String, span_id String, parent_span_id String, attributes {KEY_KINDS},"
    f" events Array(Tuple(attributes {KEY_KINDS})),"
    f" links Array(Tuple(trace_id String, span_id String, attributes {KEY_KINDS}))))))))"
)


def _flat(*, scalar_read: bool) -> str:
    """Every id valid and every attribute list free of arrays, key-value lists and repeated keys;
    other requests take the Python path, which also says what it refuses."""

    def attributes(key_values: str) -> str:
        return attributes_flat(key_values, scalar_read=scalar_read)

    link = " AND ".join(
        [
            required_id("ln.trace_id", TRACE_ID_BYTES),
            required_id("ln.span_id", SPAN_ID_BYTES),
            attributes("ln.attributes"),
        ]
    )
    span = " AND ".join(
        [
            required_id("it.trace_id", TRACE_ID_BYTES),
            required_id("it.span_id", SPAN_ID_BYTES),
            optional_id_valid("it.parent_span_id", SPAN_ID_BYTES),
            attributes("it.attributes"),
            f"arrayAll(ev -> {attributes('ev.attributes')}, it.events)",
            f"arrayAll(ln -> {link}, it.links)",
        ]
    )
    return (
        f"arrayAll(res -> {attributes('res.resource.attributes')}"
        f" AND arrayAll(sc -> arrayAll(it -> {span}, sc.spans), res.scope_spans), resource_spans)"
    )


_START = clamped_ns("it.start_time_unix_nano")
_END = clamped_ns("it.end_time_unix_nano")

TRACES = Flattening(
    message="ExportTraceServiceRequest",
    structure=_structure(KEY_VALUES),
    scalar_structure=_structure(SCALAR_KEY_VALUES),
    resources="resource_spans",
    scopes="scope_spans",
    items="spans",
    flat=_flat(scalar_read=False),
    check_structure=_CHECK_STRUCTURE,
    flat_when_scalar=_flat(scalar_read=True),
    resource_columns={
        "resource_attributes": attribute_map("res.resource.attributes"),
        "service": service_name("resource_attributes"),
    },
    scope_columns={"scope_name": "sc.scope.name", "scope_version": "sc.scope.version"},
    columns={
        "Timestamp": timestamp("it.start_time_unix_nano"),
        "TraceId": hex_id("it.trace_id"),
        "SpanId": hex_id("it.span_id"),
        "ParentSpanId": optional_hex_id("it.parent_span_id", SPAN_ID_BYTES),
        "TraceState": "it.trace_state",
        "SpanName": "it.name",
        "SpanKind": enum_name(SPAN_KINDS, "it.kind"),
        "ServiceName": "service",
        "ResourceAttributes": "resource_attributes",
        "ScopeName": "scope_name",
        "ScopeVersion": "scope_version",
        "SpanAttributes": attribute_map("it.attributes"),
        "Duration": f"if({_END} > {_START}, {_END} - {_START}, 0)",
        "StatusCode": enum_name(STATUS_CODES, "it.status.code"),
        "StatusMessage": "it.status.message",
        "Events.Timestamp": f"arrayMap(ev -> {timestamp('ev.time_unix_nano')}, it.events)",
        "Events.Name": "arrayMap(ev -> ev.name, it.events)",
        "Events.Attributes": f"arrayMap(ev -> {attribute_map('ev.attributes')}, it.events)",
        "Links.TraceId": f"arrayMap(ln -> {hex_id('ln.trace_id')}, it.links)",
        "Links.SpanId": f"arrayMap(ln -> {hex_id('ln.span_id')}, it.links)",
        "Links.TraceState": "arrayMap(ln -> ln.trace_state, it.links)",
        "Links.Attributes": f"arrayMap(ln -> {attribute_map('ln.attributes')}, it.links)",
    },
)
