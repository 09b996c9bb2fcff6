"""The span frame: the one shape of span data every detector reads.

Jobs read a window of ``otel_traces`` with :data:`SPAN_SELECT_SQL` (the attribute extraction and
the old/new semantic-convention coalescing happen in ClickHouse, so only the columns below cross
the wire) and turn the Arrow result into a polars frame with :func:`span_frame`. Tests and the
bench build the same frame directly. Absent strings are ``""``, never null, so detectors need no
null handling except where a number may be missing.

==================== ============= ===========================================================
column               type          meaning
==================== ============= ===========================================================
trace_id             String        lower-case hex trace id
span_id              String        lower-case hex span id
parent_span_id       String        parent's span id, ``""`` for a root
name                 String        span name (``SpanName``)
kind                 String        ``Server``, ``Client``, ``Internal``, ``Producer``,
                                   ``Consumer`` or ``Unspecified``
service              String        ``service.name`` (``ServiceName``)
service_version      String        resource attribute ``service.version``
start_ns             Int64         start, nanoseconds since the Unix epoch
end_ns               Int64         ``start_ns + duration_ns``
duration_ns          Int64         duration in nanoseconds
status               String        ``Unset``, ``Ok`` or ``Error``
status_message       String        status description
db_system            String        ``db.system.name``, else ``db.system``
db_statement         String        ``db.query.text``, else ``db.statement``
db_parameters        String        ``db.query.parameter.<key>`` attributes as ``key=value``
                                   joined by ``&`` in key order (bound values, when recorded)
http_method          String        ``http.request.method``, else ``http.method``
http_url             String        ``url.full``, else ``http.url``
http_route           String        ``http.route``
server_address       String        ``server.address``
http_status          Int32 (null)  ``http.response.status_code``, else ``http.status_code``
code_function        String        ``code.function.name``, else ``code.function``
code_filepath        String        ``code.file.path``, else ``code.filepath``
code_lineno          Int32 (null)  ``code.line.number``, else ``code.lineno``
workflow_name        String        ``tsdev.workflow.name`` (set on a workflow run's span)
workflow_step        String        ``tsdev.workflow.step`` (set on its step spans)
workflow_depends_on  String (null) ``tsdev.workflow.depends_on``: comma-separated steps this
                                   step consumes; ``""`` declares it independent, null says
                                   nothing
exception_types      List(String)  ``exception.type`` of the span's ``exception`` events
==================== ============= ===========================================================
"""

from __future__ import annotations

from typing import Final

import polars as pl
import pyarrow as pa

SPAN_SCHEMA: Final[dict[str, pl.DataType]] = {
    "trace_id": pl.String(),
    "span_id": pl.String(),
    "parent_span_id": pl.String(),
    "name": pl.String(),
    "kind": pl.String(),
    "service": pl.String(),
    "service_version": pl.String(),
    "start_ns": pl.Int64(),
    "end_ns": pl.Int64(),
    "duration_ns": pl.Int64(),
    "status": pl.String(),
    "status_message": pl.String(),
    "db_system": pl.String(),
    "db_statement": pl.String(),
    "db_parameters": pl.String(),
    "http_method": pl.String(),
    "http_url": pl.String(),
    "http_route": pl.String(),
    "server_address": pl.String(),
    "http_status": pl.Int32(),
    "code_function": pl.String(),
    "code_filepath": pl.String(),
    "code_lineno": pl.Int32(),
    "workflow_name": pl.String(),
    "workflow_step": pl.String(),
    "workflow_depends_on": pl.String(),
    "exception_types": pl.List(pl.String()),
}
"""Column names and polars types of the span frame, in order."""

_NULLABLE: Final = frozenset({"http_status", "code_lineno", "workflow_depends_on"})


def _attr(*names: str, source: str = "SpanAttributes") -> str:
    """The first non-empty of several attribute names (new convention first)."""
    parts = [f"nullIf({source}['{name}'], '')" for name in names]
    return f"coalesce({', '.join(parts)}, '')"


SPAN_SELECT_SQL: Final[str] = f"""
SELECT
    TraceId AS trace_id,
    SpanId AS span_id,
    ParentSpanId AS parent_span_id,
    toString(SpanName) AS name,
    toString(SpanKind) AS kind,
    toString(ServiceName) AS service,
    ResourceAttributes['service.version'] AS service_version,
    toUnixTimestamp64Nano(Timestamp) AS start_ns,
    toInt64(Duration) AS duration_ns,
    toString(StatusCode) AS status,
    StatusMessage AS status_message,
    {_attr("db.system.name", "db.system")} AS db_system,
    {_attr("db.query.text", "db.statement")} AS db_statement,
    arrayStringConcat(arrayMap(k -> concat(substring(k, 20), '=', SpanAttributes[k]),
        arraySort(arrayFilter(k -> startsWith(k, 'db.query.parameter.'), mapKeys(SpanAttributes)))),
        '&') AS db_parameters,
    {_attr("http.request.method", "http.method")} AS http_method,
    {_attr("url.full", "http.url")} AS http_url,
    SpanAttributes['http.route'] AS http_route,
    SpanAttributes['server.address'] AS server_address,
    toInt32OrNull({_attr("http.response.status_code", "http.status_code")}) AS http_status,
    {_attr("code.function.name", "code.function")} AS code_function,
    {_attr("code.file.path", "code.filepath")} AS code_filepath,
    toInt32OrNull({_attr("code.line.number", "code.lineno")}) AS code_lineno,
    SpanAttributes['tsdev.workflow.name'] AS workflow_name,
    SpanAttributes['tsdev.workflow.step'] AS workflow_step,
    if(mapContains(SpanAttributes, 'tsdev.workflow.depends_on'),
        SpanAttributes['tsdev.workflow.depends_on'], NULL) AS workflow_depends_on,
    arrayFilter(t -> t != '', arrayMap((n, a) -> if(n = 'exception', a['exception.type'], ''),
        Events.Name, Events.Attributes)) AS exception_types
FROM {{table}}
WHERE Timestamp >= {{{{start:DateTime64(9)}}}} AND Timestamp < {{{{end:DateTime64(9)}}}}
"""  # noqa: S608 (only constant attribute names are interpolated; values are bound parameters)
"""Spans of one time window: format ``{table}`` with the qualified table name, bind ``start`` and
``end`` (a half-open window, so consecutive windows never read a span twice)."""


def span_select_sql(table: str) -> str:
    """:data:`SPAN_SELECT_SQL` for one qualified table name (e.g. ``otel.otel_traces``)."""
    return SPAN_SELECT_SQL.format(table=table)


def span_frame(table: pa.Table) -> pl.DataFrame:
    """The span frame from an Arrow table read with :data:`SPAN_SELECT_SQL`.

    Drivers differ in how they hand over strings (dictionary-encoded, binary, large) and integers
    (unsigned, nanosecond timestamps), so every column is cast to :data:`SPAN_SCHEMA`; ``end_ns`` is
    derived here rather than read.
    """
    raw = pl.from_arrow(table, rechunk=False)
    assert isinstance(raw, pl.DataFrame)
    columns: list[pl.Expr] = []
    for name, dtype in SPAN_SCHEMA.items():
        if name == "end_ns":
            columns.append(
                (pl.col("start_ns").cast(pl.Int64) + pl.col("duration_ns").cast(pl.Int64)).alias(name)
            )
            continue
        if name not in raw.columns:
            columns.append(pl.lit(None if name in _NULLABLE else _empty(dtype), dtype=dtype).alias(name))
            continue
        source = raw.schema[name]
        expr = pl.col(name)
        if isinstance(source, pl.Binary) or (
            isinstance(source, pl.List) and isinstance(source.inner, pl.Binary)
        ):
            expr = expr.cast(pl.List(pl.String) if isinstance(source, pl.List) else pl.String)
        expr = expr.cast(dtype)
        if name not in _NULLABLE:
            expr = expr.fill_null(_empty(dtype))
        columns.append(expr.alias(name))
    return raw.select(columns)


def empty_span_frame() -> pl.DataFrame:
    """A span frame with no rows (the schema alone)."""
    return pl.DataFrame(schema=SPAN_SCHEMA)


def _empty(dtype: pl.DataType) -> object:
    if isinstance(dtype, pl.List):
        return []
    if dtype == pl.String():
        return ""
    return 0
