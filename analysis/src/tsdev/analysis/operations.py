"""Per-span derived columns every detector shares: call type, normalized operation, tree links.

Computed once per frame by :func:`annotate` (each detector calls it and it returns an annotated
frame unchanged), so a pass over a window normalizes statements and joins parents once, not four
times. The frame keeps its input order: moving a million rows of some thirty columns into trace
order costs more than everything the detectors do with them, so ``row`` records that order instead
and every detector that needs an order sorts its own narrow selection by it. Added columns:

==================== ============ ===========================================================
column               type         meaning
==================== ============ ===========================================================
row                  UInt32       rank in (trace id, start time, span id) order
trace_index          UInt32       rank of the trace id among the frame's distinct trace ids
parent_row           Int64        ``row`` of the parent span, -1 when absent from the frame
parent_name          Categorical  parent's span name (``""`` without one)
parent_kind          Categorical  parent's span kind
parent_service       Categorical  parent's service
parent_duration_ns   Int64        parent's duration (0 without one)
parent_is_step       Boolean      the parent is a workflow step span
entry_row            Int64        nearest ancestor-or-self that enters the service (a server or
                                  consumer span, a root, or a span whose parent is elsewhere)
entry_name           Categorical  that span's name: the endpoint or job the span belongs to
call_type            Categorical  ``db``, ``cache``, ``http``, ``rpc`` (other client or producer
                                  spans) or ``internal``
operation            Categorical  normalized SQL for statements, ``METHOD url-template`` for HTTP
                                  client calls, the span name otherwise
op_id                UInt32       rank of ``operation`` among the frame's distinct operations, so
                                  grouping and sorting by it equal doing so by the text
statement_id         UInt32       rank of ``db_statement`` among the frame's distinct statements
excluded_call        Boolean      a call the loop detectors ignore: cache commands, connection and
                                  cursor-fetch spans, transaction control, truncated statements
==================== ============ ===========================================================

Texts (trace ids, statements, operations) are turned into integer ranks once here, because every
detector groups or sorts by them and integer keys cost a fraction of string keys. The added texts are
categoricals like the span frame's (see :mod:`tsdev.analysis.spans`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np
import polars as pl

from tsdev.analysis.normalize import http_template_expr, is_truncated_expr, sql_expr, sql_verb_expr
from tsdev.analysis.spans import SPAN_SCHEMA

CACHE_SYSTEMS: Final = ("redis", "memcached", "valkey", "hazelcast", "aerospike")
"""``db.system`` values that are caches, not databases: repeats there are cheap by design."""

ENTRY_KINDS: Final = ("Server", "Consumer")
_CONNECTION_OR_FETCH = r"(?i)\b(connect\w*|connection\w*|fetch\w*|cursor\w*|checkout|pool\w*)\b"
_TRANSACTION_VERBS: Final = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "START", "SET", "END")
_POINTER_JUMPS: Final = 7  # ancestors up to 2**7 = 128 levels up
_GOLDEN: Final = 0x9E3779B97F4A7C15  # spreads trace ranks over 64 bits before mixing in span hashes


def annotate(spans: pl.DataFrame) -> pl.DataFrame:
    """The span frame with the derived columns above; returns annotated frames as they are."""
    if "operation" in spans.columns:
        return spans
    spans = _conformed(spans)
    trace_index = dense_rank(spans["trace_id"])
    order = _trace_order(spans, trace_index)
    row = np.empty(spans.height, dtype=np.int64)
    row[order] = np.arange(spans.height, dtype=np.int64)
    parent = _parent_positions(spans, trace_index, order)
    frame = spans.with_columns(
        row=pl.Series(row, dtype=pl.UInt32),
        trace_index=trace_index,
        **_parent_columns(spans, parent, row),
    )
    entry = _entry_positions(spans, parent)
    frame = frame.with_columns(
        entry_row=pl.Series(row[entry], dtype=pl.Int64),
        entry_name=spans["name"].gather(entry),
    )
    return frame.hstack(_call_columns(frame))


def texts_where(values: pl.Series, predicate: Callable[[pl.Expr], pl.Expr]) -> pl.Series:
    """The distinct texts of ``values`` for which ``predicate`` (an expression over a string column)
    holds: a string test run once per distinct text, applied to the spans with ``is_in``."""
    distinct = values.drop_nulls().unique().cast(pl.String)
    return distinct.filter(pl.DataFrame({"text": distinct}).select(predicate(pl.col("text"))).to_series())


def _conformed(spans: pl.DataFrame) -> pl.DataFrame:
    """The frame with every span-frame column of the type :data:`SPAN_SCHEMA` gives it (a frame
    built with plain strings works as well, at the cost of encoding them here)."""
    wrong = [
        pl.col(name).cast(dtype)
        for name, dtype in SPAN_SCHEMA.items()
        if name in spans.columns and spans.schema[name] != dtype
    ]
    return spans.with_columns(wrong) if wrong else spans


def dense_rank(values: pl.Series) -> pl.Series:
    """Each value's rank among the distinct values (UInt32, in sorted order): an integer key that
    groups, joins and sorts like the text, at the cost of one hash of each value."""
    distinct = values.unique().cast(pl.String).sort()
    return values.cast(pl.Enum(distinct)).to_physical().rename(values.name).cast(pl.UInt32)


def _trace_order(spans: pl.DataFrame, trace_index: pl.Series) -> np.ndarray:
    """Positions of the spans in (trace id, start, span id) order.

    Spans of one trace rarely start at the same nanosecond, so the order is taken on the two integer
    keys first; the span ids (strings, dearer to sort) are only brought in when some start is shared."""
    keys = pl.DataFrame({"t": trace_index, "s": spans["start_ns"]})
    order = keys.select(pl.arg_sort_by("t", "s")).to_series()
    ordered = keys[order]
    tied = ordered.select((pl.col("t") == pl.col("t").shift(1)) & (pl.col("s") == pl.col("s").shift(1)))
    if tied.to_series().any():
        order = keys.with_columns(i=spans["span_id"]).select(pl.arg_sort_by("t", "s", "i")).to_series()
    return order.to_numpy().astype(np.int64)


def _parent_positions(spans: pl.DataFrame, trace_index: pl.Series, order: np.ndarray) -> np.ndarray:
    """Position of each span's parent in the frame, -1 when it is not there.

    Parents are matched on one 64-bit hash of (trace, span id), which joins integers instead of
    pairs of strings. The exact string join is kept for what the hash cannot settle alone: a match
    whose ids differ (a collision) or a span id used twice in one trace (the first in trace order
    is then the parent)."""
    trace = pl.lit(trace_index).cast(pl.UInt64) * _GOLDEN
    keys = spans.select(
        key=pl.col("span_id").hash() ^ trace, parent_key=pl.col("parent_span_id").hash() ^ trace
    )
    ids = keys.select("key").with_row_index("pos")
    found = keys.select(key="parent_key").join(ids, on="key", how="left", maintain_order="left")["pos"]
    if found.len() != spans.height:
        return _parent_positions_exact(spans, order)
    matched = found.is_not_null()
    exact = spans["span_id"].gather(found.fill_null(0)) == spans["parent_span_id"]
    if not (exact | ~matched).all():
        return _parent_positions_exact(spans, order)
    return found.fill_null(-1).to_numpy().astype(np.int64)


def _parent_positions_exact(spans: pl.DataFrame, order: np.ndarray) -> np.ndarray:
    ids = (
        spans.select("trace_id", pl.col("span_id").alias("parent_span_id"))
        .with_row_index("pos")[order]
        .unique(["trace_id", "parent_span_id"], keep="first")
    )
    found = spans.select("trace_id", "parent_span_id").join(
        ids, on=["trace_id", "parent_span_id"], how="left", maintain_order="left"
    )["pos"]
    return found.fill_null(-1).to_numpy().astype(np.int64)


def _parent_columns(spans: pl.DataFrame, parent: np.ndarray, row: np.ndarray) -> dict[str, pl.Series]:
    has_parent = parent >= 0
    at = pl.Series(np.where(has_parent, parent, 0))
    missing = pl.Series(~has_parent)

    def of_parent(column: str | pl.Series, empty: object) -> pl.Series:
        values = spans[column] if isinstance(column, str) else column
        gathered = values.gather(at)
        return pl.select(
            pl.when(missing).then(pl.lit(empty, dtype=values.dtype)).otherwise(gathered)
        ).to_series()

    return {
        "parent_row": pl.Series(np.where(has_parent, row[at.to_numpy()], -1), dtype=pl.Int64),
        "parent_name": of_parent("name", ""),
        "parent_kind": of_parent("kind", ""),
        "parent_service": of_parent("service", ""),
        "parent_duration_ns": of_parent("duration_ns", 0),
        "parent_is_step": of_parent(spans["workflow_step"] != "", False),
    }


def _entry_positions(spans: pl.DataFrame, parent: np.ndarray) -> np.ndarray:
    """Pointer jumping over the parent links: each span's nearest entry ancestor in a few gathers.

    A span enters its service when it is a server or consumer span, a root, or its parent belongs to
    another service (compared by rank, an integer per span instead of a string)."""
    service = dense_rank(spans["service"]).to_numpy()
    has_parent = parent >= 0
    other_service = service[np.where(has_parent, parent, 0)] != service
    is_entry = spans["kind"].is_in(ENTRY_KINDS).to_numpy() | ~has_parent | other_service
    jump = np.where(is_entry, np.arange(spans.height, dtype=np.int64), parent)
    for _ in range(_POINTER_JUMPS):
        jump = jump[jump]
    return jump


_CALL_KEYS: Final = ("kind", "name", "db_system", "db_statement", "http_method", "http_url")
"""The columns a span's call type, operation and exclusion depend on."""


def _call_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """``call_type``, ``operation``, ``op_id``, ``statement_id`` and ``excluded_call``.

    They depend on a few text columns only, whose combinations repeat (a million spans hold a few
    hundred), so they are derived once per distinct combination, where the regular expressions and
    string functions run on plain strings, and gathered back to the spans."""
    keys = frame.select(_CALL_KEYS)
    # Combinations are told apart by one 64-bit hash of their codes (not of their texts, which a
    # unique or a join over the categoricals would materialize for every span); the codes are
    # compared at the end.
    hashes = keys.select(pl.struct(pl.col(_CALL_KEYS).to_physical()).hash()).to_series()
    first = hashes.is_first_distinct()
    combos = keys.filter(first)
    texts = combos.select(pl.col(c).cast(pl.String) for c in _CALL_KEYS)
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
    statement_id = dense_rank(texts["db_statement"])
    statements = _statement_table(texts["db_statement"])
    derived = texts.with_columns(
        statement_id=statement_id,
        sql=statements["sql"].gather(statement_id),
        excluded_statement=statements["excluded"].gather(statement_id),
    ).select(
        "statement_id",
        call_type=call_type,
        operation=pl.when(is_db & (statement != ""))
        .then(pl.col("sql"))
        .when(is_http)
        .then(http_template_expr(pl.col("http_method"), pl.col("http_url")))
        .otherwise(pl.col("name")),
        excluded_call=is_cache
        | pl.col("name").str.contains(_CONNECTION_OR_FETCH)
        | (is_db & pl.col("excluded_statement")),
    )
    derived = derived.with_columns(op_id=dense_rank(derived["operation"])).with_columns(
        pl.col("call_type", "operation").cast(pl.Categorical)
    )
    derived = derived.select("call_type", "operation", "op_id", "statement_id", "excluded_call")
    index = hashes.replace_strict(
        hashes.filter(first), pl.int_range(combos.height, dtype=pl.UInt32, eager=True)
    )
    same = [(keys[c] == combos[c].gather(index)).all() for c in _CALL_KEYS]
    if not all(same):  # two combinations with one hash: match the codes themselves
        return keys.join(combos.hstack(derived), on=_CALL_KEYS, how="left", maintain_order="left").select(
            derived.columns
        )
    return derived.select(pl.all().gather(index))


def _statement_table(statements: pl.Series) -> pl.DataFrame:
    """Per distinct statement, in :func:`dense_rank` order: the normal form, and whether the loop
    detectors ignore it (transaction control, truncated)."""
    distinct = statements.unique().cast(pl.String).sort()
    statement = pl.col("db_statement")
    return pl.DataFrame({"db_statement": distinct}).select(
        sql=sql_expr(statement),
        excluded=sql_verb_expr(statement).is_in(_TRANSACTION_VERBS) | is_truncated_expr(statement),
    )
