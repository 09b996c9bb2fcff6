"""The span frame: the one shape of span data every detector reads.

Jobs read a window of ``otel_traces`` with :data:`SPAN_SELECT_SQL` (the attribute extraction and
the old/new semantic-convention coalescing happen in ClickHouse, so only the columns below cross
the wire) and turn the Arrow result into a polars frame with :func:`span_frame`. Tests and the
bench build the same frame directly. Absent strings are ``""``, never null, so detectors need no
null handling except where a number may be missing.

Texts are ``Categorical`` (one 32-bit code per span, each distinct text stored once) except the
span ids, which are nearly all distinct: a million spans repeat a few hundred names, statements and
URLs, and some twenty columns of per-span strings would otherwise take most of a pass's memory.
Categoricals sort, group and compare with string literals like the text; code that needs a string
function works on the distinct values (see :func:`tsdev.analysis.operations.texts_where`) or casts a
narrow selection to ``String``. The store sends them dictionary-encoded (``LowCardinality``), so no
per-span string is built on the way in.

==================== ============= ===========================================================
column               type          meaning
==================== ============= ===========================================================
trace_id             Categorical   lower-case hex trace id
span_id              String        lower-case hex span id
parent_span_id       String        parent's span id, ``""`` for a root
name                 Categorical   span name (``SpanName``)
kind                 Categorical   ``Server``, ``Client``, ``Internal``, ``Producer``,
                                   ``Consumer`` or ``Unspecified``
service              Categorical   ``service.name`` (``ServiceName``)
service_version      Categorical   resource attribute ``service.version``
start_ns             Int64         start, nanoseconds since the Unix epoch
end_ns               Int64         ``start_ns + duration_ns``
duration_ns          Int64         duration in nanoseconds
status               Categorical   ``Unset``, ``Ok`` or ``Error``
status_message       Categorical   status description
db_system            Categorical   ``db.system.name``, else ``db.system``
db_statement         Categorical   ``db.query.text``, else ``db.statement``
db_parameters        Categorical   ``db.query.parameter.<key>`` attributes as ``key=value``
                                   joined by ``&`` in key order, else ``db.statement.parameters``
                                   (bound values, when recorded)
http_method          Categorical   ``http.request.method``, else ``http.method``
http_url             Categorical   ``url.full``, else ``http.url``
http_route           Categorical   ``http.route``
server_address       Categorical   ``server.address``
http_status          Int32 (null)  ``http.response.status_code``, else ``http.status_code``
code_function        Categorical   ``code.function.name``, else ``code.function``
code_filepath        Categorical   ``code.file.path``, else ``code.filepath``
code_lineno          Int32 (null)  ``code.line.number``, else ``code.lineno``
workflow_name        Categorical   ``tsdev.workflow.name`` (set on a workflow run's span)
workflow_step        Categorical   ``tsdev.workflow.step`` (set on its step spans)
workflow_depends_on  Categorical   ``tsdev.workflow.depends_on``: comma-separated steps this
                                   step consumes; ``""`` declares it independent, null says
                                   nothing
exception_types      List(String)  ``exception.type`` of the span's ``exception`` events
==================== ============= ===========================================================
"""

from __future__ import annotations

from typing import Final

import polars as pl
import pyarrow as pa

_TEXT: Final = pl.Categorical()

SPAN_SCHEMA: Final[dict[str, pl.DataType]] = {
    "trace_id": _TEXT,
    "span_id": pl.String(),
    "parent_span_id": pl.String(),
    "name": _TEXT,
    "kind": _TEXT,
    "service": _TEXT,
    "service_version": _TEXT,
    "start_ns": pl.Int64(),
    "end_ns": pl.Int64(),
    "duration_ns": pl.Int64(),
    "status": _TEXT,
    "status_message": _TEXT,
    "db_system": _TEXT,
    "db_statement": _TEXT,
    "db_parameters": _TEXT,
    "http_method": _TEXT,
    "http_url": _TEXT,
    "http_route": _TEXT,
    "server_address": _TEXT,
    "http_status": pl.Int32(),
    "code_function": _TEXT,
    "code_filepath": _TEXT,
    "code_lineno": pl.Int32(),
    "workflow_name": _TEXT,
    "workflow_step": _TEXT,
    "workflow_depends_on": _TEXT,
    "exception_types": pl.List(pl.String()),
}
"""Column names and polars types of the span frame, in order."""

_NULLABLE: Final = frozenset({"http_status", "code_lineno", "workflow_depends_on"})


def _attr(*names: str, source: str = "SpanAttributes") -> str:
    """The first non-empty of several attribute names (new convention first)."""
    parts = [f"nullIf({source}['{name}'], '')" for name in names]
    return f"coalesce({', '.join(parts)}, '')"


def _text(expression: str) -> str:
    """A text column sent dictionary-encoded (see :data:`SPAN_READ_SETTINGS`)."""
    return f"toLowCardinality({expression})"


# Bound values: the semantic conventions' ``db.query.parameter.<key>``, else the text that the
# Python DB-API instrumentation records with ``capture_parameters`` (``db.statement.parameters``).
_PARAMETERS: Final = """ifNull(nullIf(arrayStringConcat(
        arrayMap(k -> concat(substring(k, 20), '=', SpanAttributes[k]),
        arraySort(arrayFilter(k -> startsWith(k, 'db.query.parameter.'), mapKeys(SpanAttributes)))),
        '&'), ''), SpanAttributes['db.statement.parameters'])"""
_DEPENDS_ON: Final = """if(mapContains(SpanAttributes, 'tsdev.workflow.depends_on'),
        SpanAttributes['tsdev.workflow.depends_on'], NULL)"""

# Trace ids cross the wire as plain strings (a dictionary per block of a few hundred distinct ids
# costs more than the ids); span_frame() encodes them.
SPAN_SELECT_SQL: Final[str] = f"""
SELECT
    TraceId AS trace_id,
    SpanId AS span_id,
    ParentSpanId AS parent_span_id,
    SpanName AS name,
    SpanKind AS kind,
    ServiceName AS service,
    {_text("ResourceAttributes['service.version']")} AS service_version,
    toUnixTimestamp64Nano(Timestamp) AS start_ns,
    toInt64(Duration) AS duration_ns,
    {_text("StatusCode")} AS status,
    {_text("StatusMessage")} AS status_message,
    {_text(_attr("db.system.name", "db.system"))} AS db_system,
    {_text(_attr("db.query.text", "db.statement"))} AS db_statement,
    {_text(_PARAMETERS)} AS db_parameters,
    {_text(_attr("http.request.method", "http.method"))} AS http_method,
    {_text(_attr("url.full", "http.url"))} AS http_url,
    {_text("SpanAttributes['http.route']")} AS http_route,
    {_text("SpanAttributes['server.address']")} AS server_address,
    toInt32OrNull({_attr("http.response.status_code", "http.status_code")}) AS http_status,
    {_text(_attr("code.function.name", "code.function"))} AS code_function,
    {_text(_attr("code.file.path", "code.filepath"))} AS code_filepath,
    toInt32OrNull({_attr("code.line.number", "code.lineno")}) AS code_lineno,
    {_text("SpanAttributes['tsdev.workflow.name']")} AS workflow_name,
    {_text("SpanAttributes['tsdev.workflow.step']")} AS workflow_step,
    {_text(_DEPENDS_ON)} AS workflow_depends_on,
    arrayFilter(t -> t != '', arrayMap((n, a) -> if(n = 'exception', a['exception.type'], ''),
        Events.Name, Events.Attributes)) AS exception_types
FROM {{table}}
WHERE Timestamp >= {{{{start:DateTime64(9)}}}} AND Timestamp < {{{{end:DateTime64(9)}}}}
"""  # noqa: S608 (only constant attribute names are interpolated; values are bound parameters)
"""Spans of one time window: format ``{table}`` with the qualified table name, bind ``start`` and
``end`` (a half-open window, so consecutive windows never read a span twice). Read it with
:data:`SPAN_READ_SETTINGS`."""

SPAN_READ_SETTINGS: Final[dict[str, str]] = {"output_format_arrow_low_cardinality_as_dictionary": "1"}
"""ClickHouse settings for reading :data:`SPAN_SELECT_SQL` as Arrow: ``LowCardinality`` columns
arrive as dictionaries, which polars takes as categoricals without building a string per span."""


def span_select_sql(table: str) -> str:
    """:data:`SPAN_SELECT_SQL` for one qualified table name (e.g. ``otel.otel_traces``)."""
    return SPAN_SELECT_SQL.format(table=table)


def span_frame(table: pa.Table) -> pl.DataFrame:
    """The span frame from an Arrow table read with :data:`SPAN_SELECT_SQL`.

    Drivers differ in how they hand over strings (dictionary-encoded, binary, large) and integers
    (unsigned, nanosecond timestamps), so every column is cast to :data:`SPAN_SCHEMA`; ``end_ns`` is
    derived here rather than read. Plain strings bound for a categorical are dictionary-encoded in
    Arrow, which is cheaper than building a polars string per span only to encode it.
    """
    raw = pl.from_arrow(_dictionary_encoded(table), rechunk=False)
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


def _dictionary_encoded(table: pa.Table) -> pa.Table:
    for index, field in enumerate(table.schema):
        if SPAN_SCHEMA.get(field.name) == _TEXT and (
            pa.types.is_string(field.type) or pa.types.is_large_string(field.type)
        ):
            table = table.set_column(index, field.name, table.column(index).dictionary_encode())
    return table


def empty_span_frame() -> pl.DataFrame:
    """A span frame with no rows (the schema alone)."""
    return pl.DataFrame(schema=SPAN_SCHEMA)


def _empty(dtype: pl.DataType) -> object:
    if isinstance(dtype, pl.List):
        return []
    if dtype in (pl.String(), _TEXT):
        return ""
    return 0
