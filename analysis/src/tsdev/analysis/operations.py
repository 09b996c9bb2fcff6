"""Per-span derived columns every detector shares: call type, normalized operation, tree links.

Computed once per frame by :func:`annotate` (each detector calls it and it returns an annotated
frame unchanged), so a pass over a window normalizes statements and joins parents once, not four
times. Added columns:

==================== ============ ===========================================================
column               type         meaning
==================== ============ ===========================================================
row                  UInt32       position after sorting by trace and start time
parent_row           Int64        ``row`` of the parent span, -1 when absent from the frame
parent_name          String       parent's span name (``""`` without one)
parent_kind          String       parent's span kind
parent_duration_ns   Int64        parent's duration (0 without one)
parent_is_step       Boolean      the parent is a workflow step span
entry_row            Int64        nearest ancestor-or-self that enters the service (a server or
                                  consumer span, a root, or a span whose parent is elsewhere)
entry_name           String       that span's name: the endpoint or job the span belongs to
call_type            String       ``db``, ``cache``, ``http``, ``rpc`` (other client or producer
                                  spans) or ``internal``
operation            String       normalized SQL for statements, ``METHOD url-template`` for HTTP
                                  client calls, the span name otherwise
excluded_call        Boolean      a call the loop detectors ignore: cache commands, connection and
                                  cursor-fetch spans, transaction control, truncated statements
==================== ============ ===========================================================
"""

from __future__ import annotations

from typing import Final

import numpy as np
import polars as pl

from tsdev.analysis.normalize import http_template_expr, is_truncated_expr, sql_expr, sql_verb_expr

CACHE_SYSTEMS: Final = ("redis", "memcached", "valkey", "hazelcast", "aerospike")
"""``db.system`` values that are caches, not databases: repeats there are cheap by design."""

ENTRY_KINDS: Final = ("Server", "Consumer")
_CONNECTION_OR_FETCH = r"(?i)\b(connect\w*|connection\w*|fetch\w*|cursor\w*|checkout|pool\w*)\b"
_TRANSACTION_VERBS: Final = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "START", "SET", "END")
_POINTER_JUMPS: Final = 7  # ancestors up to 2**7 = 128 levels up


def annotate(spans: pl.DataFrame) -> pl.DataFrame:
    """The span frame with the derived columns above; returns annotated frames as they are."""
    if "operation" in spans.columns:
        return spans
    frame = spans.sort(["trace_id", "start_ns", "span_id"]).with_row_index("row")
    frame = _with_parents(frame)
    frame = frame.with_columns(entry_row=_entry_rows(frame))
    frame = frame.with_columns(entry_name=frame["name"].gather(frame["entry_row"]))
    statement = pl.col("db_statement")
    is_cache = pl.col("db_system").str.to_lowercase().is_in(CACHE_SYSTEMS)
    is_db = (pl.col("db_system") != "") | (statement != "")
    is_client = pl.col("kind").is_in(["Client", "Producer"])
    is_http = (pl.col("http_method") != "") & (pl.col("http_url") != "") & is_client
    call_type = (
        pl.when(is_cache)
        .then(pl.lit("cache"))
        .when(is_db)
        .then(pl.lit("db"))
        .when(is_http)
        .then(pl.lit("http"))
        .when(is_client)
        .then(pl.lit("rpc"))
        .otherwise(pl.lit("internal"))
    )
    frame = _with_normal_forms(frame)
    operation = (
        pl.when(is_db & (statement != ""))
        .then(pl.col("_sql"))
        .when(is_http)
        .then(pl.col("_http"))
        .otherwise(pl.col("name"))
    )
    excluded = (
        is_cache
        | pl.col("name").str.contains(_CONNECTION_OR_FETCH)
        | (is_db & sql_verb_expr(statement).is_in(_TRANSACTION_VERBS))
        | (is_db & is_truncated_expr(statement))
    )
    return frame.with_columns(
        call_type=call_type,
        operation=operation,
        excluded_call=excluded,
    ).drop("_sql", "_http")


def _with_normal_forms(frame: pl.DataFrame) -> pl.DataFrame:
    """Normalized SQL and HTTP templates, computed once per distinct statement or URL: traffic
    repeats the same texts, and the regular expressions cost far more than the joins."""
    statements = frame.select("db_statement").unique().with_columns(_sql=sql_expr(pl.col("db_statement")))
    urls = (
        frame.select("http_method", "http_url")
        .unique()
        .with_columns(_http=http_template_expr(pl.col("http_method"), pl.col("http_url")))
    )
    return frame.join(statements, on="db_statement", how="left", maintain_order="left").join(
        urls, on=["http_method", "http_url"], how="left", maintain_order="left"
    )


def _with_parents(frame: pl.DataFrame) -> pl.DataFrame:
    parents = frame.select(
        "trace_id",
        pl.col("span_id").alias("parent_span_id"),
        pl.col("row").cast(pl.Int64).alias("parent_row"),
        pl.col("name").alias("parent_name"),
        pl.col("kind").alias("parent_kind"),
        pl.col("service").alias("parent_service"),
        pl.col("duration_ns").alias("parent_duration_ns"),
        (pl.col("workflow_step") != "").alias("parent_is_step"),
    ).unique(["trace_id", "parent_span_id"], keep="first")
    joined = frame.join(parents, on=["trace_id", "parent_span_id"], how="left", maintain_order="left")
    return joined.with_columns(
        pl.col("parent_row").fill_null(-1),
        pl.col("parent_name").fill_null(""),
        pl.col("parent_kind").fill_null(""),
        pl.col("parent_service").fill_null(""),
        pl.col("parent_duration_ns").fill_null(0),
        pl.col("parent_is_step").fill_null(value=False),
    )


def _entry_rows(frame: pl.DataFrame) -> pl.Series:
    """Pointer jumping over the parent links: each span's nearest entry ancestor in a few gathers."""
    row = frame["row"].to_numpy().astype(np.int64)
    parent = frame["parent_row"].to_numpy()
    is_entry = (
        frame.select(
            pl.col("kind").is_in(ENTRY_KINDS)
            | (pl.col("parent_row") < 0)
            | (pl.col("parent_service") != pl.col("service"))
        )
        .to_series()
        .to_numpy()
    )
    jump = np.where(is_entry, row, parent)
    for _ in range(_POINTER_JUMPS):
        jump = jump[jump]
    return pl.Series("entry_row", jump, dtype=pl.Int64)
