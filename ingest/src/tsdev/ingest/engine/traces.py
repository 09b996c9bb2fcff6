"""``ExportTraceServiceRequest`` bodies flattened into ``otel_traces`` by ClickHouse itself."""

# ruff: noqa: S608  # SQL is assembled from fixed fragments; the only values are tsdev's own file paths

from __future__ import annotations

import os
from pathlib import Path

from tsdev.ingest.decode.traces import SPAN_KINDS, STATUS_CODES
from tsdev.ingest.engine.sql import (
    KEY_VALUES,
    ZERO_SPAN_ID,
    ZERO_TRACE_ID,
    attribute_map,
    attributes_flat,
    enum_name,
    hex_id,
    required_id,
    settings,
    source,
    timestamp,
)

MESSAGE = "ExportTraceServiceRequest"
# The file is parsed by one thread; flattening and writing the parts can use the other cores.
_INSERT_THREADS = max(1, min(4, os.cpu_count() or 1))

_EVENT = f"Tuple(time_unix_nano UInt64, name String, attributes {KEY_VALUES})"
_LINK = f"Tuple(trace_id String, span_id String, trace_state String, attributes {KEY_VALUES})"
_SPAN = (
    "Tuple(trace_id String, span_id String, trace_state String, parent_span_id String, name String,"
    " kind Int32, start_time_unix_nano UInt64, end_time_unix_nano UInt64,"
    f" attributes {KEY_VALUES}, events Array({_EVENT}), links Array({_LINK}),"
    " status Tuple(message String, code Int32))"
)
STRUCTURE = (
    f"resource_spans Array(Tuple(resource Tuple(attributes {KEY_VALUES}),"
    f" scope_spans Array(Tuple(scope Tuple(name String, version String), spans Array({_SPAN})))))"
)

_SPAN_FLAT = " AND ".join(
    [
        required_id("sp.trace_id", ZERO_TRACE_ID, 16),
        required_id("sp.span_id", ZERO_SPAN_ID, 8),
        "length(sp.parent_span_id) IN (0, 8)",
        attributes_flat("sp.attributes"),
        f"arrayAll(ev -> {attributes_flat('ev.attributes')}, sp.events)",
        "arrayAll(ln -> "
        + " AND ".join(
            [
                required_id("ln.trace_id", ZERO_TRACE_ID, 16),
                required_id("ln.span_id", ZERO_SPAN_ID, 8),
                attributes_flat("ln.attributes"),
            ]
        )
        + ", sp.links)",
    ]
)
FLAT = (
    f"arrayAll(rs -> {attributes_flat('rs.resource.attributes')}"
    f" AND arrayAll(ss -> arrayAll(sp -> {_SPAN_FLAT}, ss.spans), rs.scope_spans), resource_spans)"
)
"""True for a request the engine stores exactly as the Python decoder would: every id valid, every
attribute list free of arrays, key-value lists and repeated keys. Other requests take the Python path,
which also explains what it refuses."""

_COLUMNS = {
    "Timestamp": timestamp("sp.start_time_unix_nano"),
    "TraceId": hex_id("sp.trace_id"),
    "SpanId": hex_id("sp.span_id"),
    "ParentSpanId": f"if(sp.parent_span_id = {ZERO_SPAN_ID}, '', {hex_id('sp.parent_span_id')})",
    "TraceState": "sp.trace_state",
    "SpanName": "sp.name",
    "SpanKind": enum_name(SPAN_KINDS, "sp.kind"),
    "ServiceName": "service_name",
    "ResourceAttributes": "resource_attributes",
    "ScopeName": "scope_name",
    "ScopeVersion": "scope_version",
    "SpanAttributes": attribute_map("sp.attributes"),
    "Duration": (
        f"if(least(sp.end_time_unix_nano, {2**63 - 1}) > least(sp.start_time_unix_nano, {2**63 - 1}),"
        f" least(sp.end_time_unix_nano, {2**63 - 1}) - least(sp.start_time_unix_nano, {2**63 - 1}), 0)"
    ),
    "StatusCode": enum_name(STATUS_CODES, "sp.status.code"),
    "StatusMessage": "sp.status.message",
    "Events.Timestamp": f"arrayMap(ev -> {timestamp('ev.time_unix_nano')}, sp.events)",
    "Events.Name": "arrayMap(ev -> ev.name, sp.events)",
    "Events.Attributes": f"arrayMap(ev -> {attribute_map('ev.attributes')}, sp.events)",
    "Links.TraceId": f"arrayMap(ln -> {hex_id('ln.trace_id')}, sp.links)",
    "Links.SpanId": f"arrayMap(ln -> {hex_id('ln.span_id')}, sp.links)",
    "Links.TraceState": "arrayMap(ln -> ln.trace_state, sp.links)",
    "Links.Attributes": f"arrayMap(ln -> {attribute_map('ln.attributes')}, sp.links)",
}
COLUMNS = tuple(_COLUMNS)
"""The columns the engine path fills: the same as the Python decoder's."""


def check_sql(path: Path) -> str:
    """One row per request in ``path``, in file order: whether the engine can store it."""
    return f"SELECT {FLAT} FROM {source(path, STRUCTURE)} SETTINGS {settings(MESSAGE)}, max_threads = 1"


def insert_sql(table: str, path: Path, *, all_flat: bool) -> str:
    """Flatten the storable requests in ``path`` into ``table`` (a qualified name). With
    ``all_flat`` (the check found every request storable) the check is not repeated per request.

    Resource and scope fields are computed once per resource and scope, before the spans are
    unrolled, so a request's thousand spans share one evaluation of its resource attributes."""
    columns = ", ".join(f"`{name}`" for name in _COLUMNS)
    values = ",\n    ".join(_COLUMNS.values())
    resource_map = attribute_map("rs.resource.attributes")
    return f"""
INSERT INTO {table} ({columns})
SELECT
    {values}
FROM (
    SELECT resource_attributes, service_name, ss.scope.name AS scope_name,
           ss.scope.version AS scope_version, ss.spans AS spans
    FROM (
        SELECT {resource_map} AS resource_attributes,
               if(resource_attributes['service.name'] = '', 'unknown_service',
                  resource_attributes['service.name']) AS service_name,
               rs.scope_spans AS scope_spans
        FROM (SELECT resource_spans FROM {source(path, STRUCTURE)}{"" if all_flat else f" WHERE {FLAT}"})
        ARRAY JOIN resource_spans AS rs
    )
    ARRAY JOIN scope_spans AS ss
)
ARRAY JOIN spans AS sp
SETTINGS {settings(MESSAGE)}, max_insert_threads = {_INSERT_THREADS}"""
