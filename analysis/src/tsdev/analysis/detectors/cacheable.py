"""``cacheable``: the same read, with the same values, made again before its data changed.

::

    t=0s   trace A  SELECT * FROM products WHERE id = 7   (miss: fill)
    t=12s  trace B  SELECT * FROM products WHERE id = 7   (hit with a 30 s TTL)
    t=40s  trace C  UPDATE products SET ... WHERE id = 7  (write: invalidates)
    t=41s  trace D  SELECT * FROM products WHERE id = 7   (miss)

Reads are SELECT statements whose values are all visible (literals, or recorded bound
parameters) and HTTP GET calls; the read key is the exact text plus its parameters. Writes
(INSERT, UPDATE, DELETE, REPLACE, MERGE, TRUNCATE; HTTP PUT, POST, PATCH, DELETE) to a table the read
names, or to the read's URL path, start a new epoch: a read is never a hit across a write.

For each TTL (30 s, 5 min, 1 h) the hit rate is estimated with a fixed-window cache per key and
epoch: the first read of each window is a miss, the others hits (close to a fill-on-miss cache and
never more optimistic by more than one miss per window). Saving = hit reads' latency minus a cache
lookup. Repeats within one trace are reported separately, per (service, parent operation,
operation), as a memoization finding (``scope: per_request``); repeats across requests as a shared
cache finding per (service, operation) with parent operation ``*`` (``scope: cross_request``).

Evidence: ``scope``, ``reads``, ``distinct_reads``, ``traces_affected``, ``read_latency_ms_p50``,
``resources`` (tables or URL paths), ``writes_seen``, ``ttls`` (hit rate, hits and saving per hour
for each TTL; cross-request only), ``recommended_ttl_s``, ``duplicate_reads`` (per-request only),
``example_trace_ids``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from tsdev.analysis.detectors.base import Detector, examples, ms, per_hour
from tsdev.analysis.findings import Finding, severity_for
from tsdev.analysis.fingerprint import fingerprint
from tsdev.analysis.normalize import sql_has_placeholders_expr, sql_tables_expr, sql_verb_expr
from tsdev.analysis.operations import texts_where

_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE", "TRUNCATE", "UPSERT")
_WRITE_METHODS = ("PUT", "POST", "PATCH", "DELETE")


@dataclass(frozen=True)
class CacheableSettings:
    ttls_s: tuple[float, ...] = (30.0, 300.0, 3600.0)
    """TTLs the hit rate and saving are estimated for."""
    reference_ttl_s: float = 300.0
    """TTL whose hit rate decides whether to report and whose saving is the estimated saving."""
    min_reads: int = 20
    min_hit_rate: float = 0.3
    """Cross-request hit rate (at the reference TTL) that makes a shared cache worthwhile."""
    min_duplicate_traces: int = 2
    """Traces that repeat a read within themselves before memoizing is suggested."""
    cache_lookup_ms: float = 0.5
    """Cost of a cache hit, subtracted from each hit's saving."""


class CacheableDetector(Detector[CacheableSettings]):
    kind = "cacheable"

    @classmethod
    def default_settings(cls) -> CacheableSettings:
        return CacheableSettings()

    def detect(self, spans: pl.DataFrame, window_s: float) -> list[Finding]:
        found, writes_seen = _reads_with_epochs(spans)
        if found.frame.is_empty():
            return []
        lookup_ns = round(self.settings.cache_lookup_ms * 1e6)
        saved = (pl.col("duration_ns") - lookup_ns).clip(lower_bound=0)
        # Within one trace, row order is start order, so (key, epoch, row) puts each trace's reads of
        # one key together and earliest first: a read repeats one when its neighbour has that group.
        # ``first`` is each read's place in that order, for the per-request groups' first read.
        order = _order(found.frame, "key", "epoch", "row")
        duplicate = _in_order(
            found.frame, order, _same_as_previous("key", "epoch", "trace_index").alias("duplicate")
        )
        frame = found.frame.with_columns(duplicate, saved_ns=saved, first=_ranks(order))
        reads = _Reads(frame, found.tables)
        findings = self._per_request(reads, writes_seen, window_s)
        findings += self._cross_request(reads, writes_seen, window_s)
        return findings

    def _per_request(self, reads: _Reads, writes: dict[str, int], window_s: float) -> list[Finding]:
        # Only traces that repeat some read can hold a duplicate; the rest need no grouping.
        repeating = reads.frame.filter(pl.col("duplicate")).select("trace_index").unique()
        per_trace = (
            reads.frame.join(repeating, on="trace_index", how="semi")
            .group_by("service", "parent_name", "op_id", "trace_index")
            .agg(
                pl.col("duplicate").sum().alias("duplicates"),
                pl.col("saved_ns").filter(pl.col("duplicate")).sum().alias("saved_ns"),
                pl.len().alias("reads"),
                pl.col("key").n_unique().alias("distinct_reads"),
                pl.col("duration_ns").median().alias("latency"),
                *(
                    pl.col(c).get(pl.col("first").arg_min())
                    for c in ("operation", "statement_id", "path", "is_db")
                ),
                pl.col("trace_id").first(),
            )
            .filter(pl.col("duplicates") > 0)
            .sort(["saved_ns", "trace_index"], descending=[True, False])
        )
        groups = (
            per_trace.group_by("service", "parent_name", "op_id", maintain_order=True)
            .agg(
                pl.len().alias("traces_affected"),
                pl.col("duplicates").sum(),
                pl.col("reads").sum(),
                pl.col("distinct_reads").sum(),
                pl.col("latency").median(),
                pl.col("operation").first(),
                pl.col("saved_ns").median().alias("saved_p50"),
                pl.col("saved_ns").sum().alias("saved_total"),
                pl.col("statement_id").first(),
                pl.col("path").first(),
                pl.col("is_db").first(),
                pl.col("trace_id").head(20).alias("trace_ids"),
            )
            .filter(pl.col("traces_affected") >= self.settings.min_duplicate_traces)
        )
        groups = _with_resources(groups, reads)
        findings = []
        for row in groups.iter_rows(named=True):
            op = row["operation"]
            evidence: dict[str, Any] = {
                "scope": "per_request",
                "reads": row["reads"],
                "distinct_reads": row["distinct_reads"],
                "duplicate_reads": row["duplicates"],
                "traces_affected": row["traces_affected"],
                "read_latency_ms_p50": ms(row["latency"]),
                "saving_ms_p50": ms(row["saved_p50"]),
                "resources": row["resources"],
                "writes_seen": sum(writes.get(r, 0) for r in row["resources"]),
                "example_trace_ids": examples(row["trace_ids"]),
            }
            findings.append(
                Finding(
                    kind="cacheable",
                    service=row["service"],
                    fingerprint=fingerprint("cacheable", row["service"], row["parent_name"], (op,)),
                    severity=severity_for(ms(row["saved_p50"]), 1.0),
                    title=f"Same read repeated within one {row['parent_name']} request: {op}",
                    parent_operation=row["parent_name"],
                    operations=(op,),
                    evidence=evidence,
                    estimated_saving_ms_per_hour=per_hour(ms(row["saved_total"]), window_s),
                    suggested_change=(
                        "Memoize the result for the duration of the request (load it once and pass it "
                        "along, or a per-request cache keyed by the query and its parameters)."
                    ),
                )
            )
        return findings

    def _cross_request(self, reads: _Reads, writes: dict[str, int], window_s: float) -> list[Finding]:
        settings = self.settings
        # Per-request duplicates are the memoization finding's; a shared cache is judged without them.
        shared = reads.frame.filter(~pl.col("duplicate"))
        first = pl.when(~_same_as_previous("key", "epoch")).then(pl.col("start_ns")).forward_fill()
        hit_columns = []
        for index, ttl in enumerate(settings.ttls_s):
            window = ((pl.col("start_ns") - first) // round(ttl * 1e9)).alias("window")
            hit_columns.append(_same_as_previous("key", "epoch", window).alias(f"hit_{index}"))
        shared = shared.with_columns(
            _in_order(shared, _order(shared, "key", "epoch", "start_ns", "row"), *hit_columns)
        )
        # The group's earliest read (first in start order) names its statement; its first hits in
        # start order are the examples. ``seq`` is that order, so no copy of the reads is sorted.
        reference = settings.ttls_s.index(settings.reference_ttl_s)
        hit = pl.col(f"hit_{reference}")
        earliest = pl.col("seq").arg_min()
        aggregations = [
            pl.len().alias("reads"),
            pl.col("key").n_unique().alias("distinct_reads"),
            pl.col("trace_index").n_unique().alias("traces_affected"),
            pl.col("duration_ns").median().alias("latency"),
            *(pl.col(c).get(earliest) for c in ("operation", "statement_id", "path", "is_db")),
            pl.col("trace_id").filter(hit).sort_by(pl.col("seq").filter(hit)).head(20).alias("trace_ids"),
        ]
        for index in range(len(settings.ttls_s)):
            aggregations += [
                pl.col(f"hit_{index}").sum().alias(f"hits_{index}"),
                pl.col("saved_ns").filter(pl.col(f"hit_{index}")).sum().alias(f"saved_{index}"),
            ]
        groups = (
            shared.with_columns(seq=_ranks(shared.select(pl.arg_sort_by("start_ns", "row")).to_series()))
            .group_by("service", "op_id")
            .agg(aggregations)
            .filter(
                (pl.col("reads") >= settings.min_reads)
                & (pl.col(f"hits_{reference}") >= settings.min_hit_rate * pl.col("reads"))
            )
        )
        groups = _with_resources(groups, reads)
        findings = []
        for row in groups.iter_rows(named=True):
            op = row["operation"]
            ttls = [
                {
                    "ttl_s": ttl,
                    "hit_rate": round(row[f"hits_{i}"] / row["reads"], 4),
                    "hits": row[f"hits_{i}"],
                    "saving_ms_per_hour": per_hour(ms(row[f"saved_{i}"]), window_s),
                }
                for i, ttl in enumerate(settings.ttls_s)
            ]
            best = max(t["hit_rate"] for t in ttls)
            recommended = next(t["ttl_s"] for t in ttls if t["hit_rate"] >= 0.9 * best)
            rate = ttls[reference]["hit_rate"]
            reference_s = settings.reference_ttl_s
            resources = row["resources"]
            evidence: dict[str, Any] = {
                "scope": "cross_request",
                "reads": row["reads"],
                "distinct_reads": row["distinct_reads"],
                "traces_affected": row["traces_affected"],
                "read_latency_ms_p50": ms(row["latency"]),
                "resources": resources,
                "writes_seen": sum(writes.get(r, 0) for r in resources),
                "ttls": ttls,
                "recommended_ttl_s": recommended,
                "example_trace_ids": examples(row["trace_ids"]),
            }
            invalidate = f" and invalidate it on writes to {', '.join(resources)}" if resources else ""
            findings.append(
                Finding(
                    kind="cacheable",
                    service=row["service"],
                    fingerprint=fingerprint("cacheable", row["service"], "*", (op,)),
                    severity=severity_for(ms(row["latency"]), rate),
                    title=f"Cacheable read {op}: {rate:.0%} of reads repeat within {reference_s:g} s",
                    parent_operation="*",
                    operations=(op,),
                    evidence=evidence,
                    estimated_saving_ms_per_hour=float(ttls[reference]["saving_ms_per_hour"]),
                    suggested_change=(
                        "Cache the result in a shared cache keyed by the exact query and its parameters "
                        f"with a TTL of {recommended:g} s{invalidate}."
                    ),
                )
            )
        return findings


@dataclass(frozen=True)
class _Reads:
    """Reads (one row each, with ``key``, ``epoch`` and ``duplicate``) and the tables each distinct
    statement names (``statement_id``, ``tables``): resources are looked up for the few reported
    groups rather than carried as a list by every read."""

    frame: pl.DataFrame
    tables: pl.DataFrame


def _reads_with_epochs(spans: pl.DataFrame) -> tuple[_Reads, dict[str, int]]:
    """Reads with their key and write epoch; and the writes seen per resource."""
    # Statements and URLs are classified once per distinct text; the calls then take one lazy pass
    # (filter, two small joins, classification, filter) that materializes only reads and writes.
    texts = _statement_texts(
        spans.lazy()
        .filter(pl.col("call_type") == "db")
        .select("statement_id", "db_statement")
        .unique("statement_id")
        .collect()
    )
    urls = spans.lazy().filter(pl.col("call_type") == "http").select("http_url").unique().collect()
    urls = urls.with_columns(
        path=pl.col("http_url").cast(pl.String).str.replace(r"[?#].*$", "").cast(pl.Categorical)
    )
    methods = texts_where(
        spans["http_method"], lambda m: m.str.to_uppercase().is_in(["GET", *_WRITE_METHODS])
    )
    get_methods = methods.filter(methods.str.to_uppercase() == "GET").implode()
    write_methods = methods.filter(methods.str.to_uppercase() != "GET").implode()
    verb = pl.col("verb")
    statements = texts.select(
        "statement_id",
        "spaced_id",
        "placeholders",
        reading=verb.is_in(["SELECT", "WITH"]) & pl.col("plain_select"),
        writing=verb.is_in(_WRITE_VERBS),
    )
    is_db = (pl.col("call_type") == "db") & (pl.col("db_statement") != "") & ~pl.col("excluded_call")
    is_http = pl.col("call_type") == "http"
    method = pl.col("http_method")
    known = ~pl.col("placeholders").fill_null(value=False) | (pl.col("db_parameters") != "")
    is_read = (is_db & pl.col("reading").fill_null(value=False) & known) | (
        is_http & method.is_in(get_methods)
    )
    is_write = (is_db & pl.col("writing").fill_null(value=False)) | (is_http & method.is_in(write_methods))
    calls = (
        spans.lazy()
        .filter(pl.col("call_type").is_in(["db", "http"]))
        .select(
            "row", "trace_index", "trace_id", "service", "parent_name", "operation", "op_id", "statement_id",
            "db_statement", "db_parameters", "http_method", "http_url", "call_type", "excluded_call",
            "start_ns", "duration_ns",
        )
        .join(statements.lazy(), on="statement_id", how="left")
        .join(urls.lazy(), on="http_url", how="left")
        .with_columns(is_db=is_db, is_read=is_read, path=pl.col("path").fill_null(""))
        .filter(is_read | is_write)
        .collect()
    )  # fmt: skip
    writes = (
        _resources(calls.filter(~pl.col("is_read")), texts)
        .sort("start_ns", "row")
        .with_columns(writes_before=pl.int_range(1, pl.len() + 1).over("resource"))
    )
    texts_codes = (pl.col("db_parameters").to_physical(), pl.col("http_url").to_physical())
    key = pl.struct("op_id", "spaced_id", *texts_codes).rank("dense")
    reads = calls.filter(pl.col("is_read")).select(
        "row", "trace_index", "trace_id", "service", "parent_name", "operation", "op_id", "statement_id",
        "path", "is_db", "start_ns", "duration_ns", key=key,
    )  # fmt: skip
    # Only reads of a resource something wrote to can be in a later epoch than the first.
    written = writes["resource"].unique().implode()
    writing = texts.filter(pl.col("tables").list.eval(pl.element().is_in(written)).list.any())
    touching = (
        pl.when(pl.col("is_db"))
        .then(pl.col("statement_id").is_in(writing["statement_id"].implode()))
        .otherwise(pl.col("path").is_in(written))
    )
    touched = _resources(reads.filter(touching), texts).filter(pl.col("resource").is_in(written))
    epochs = (
        touched.sort("start_ns", "row")
        .join_asof(writes.select("resource", "start_ns", "writes_before"), on="start_ns", by="resource",
                   strategy="backward", check_sortedness=False)
        .group_by("row")
        .agg(pl.col("writes_before").fill_null(0).sum().alias("epoch"))
    )  # fmt: skip
    seen = {str(r): int(n) for r, n in writes.group_by("resource").agg(pl.len()).iter_rows()}
    reads = reads.join(epochs, on="row", how="left").with_columns(pl.col("epoch").fill_null(0))
    return _Reads(reads, texts.select("statement_id", "tables")), seen


def _statement_texts(texts: pl.DataFrame) -> pl.DataFrame:
    """Properties of each distinct statement (``statement_id``, ``db_statement``), computed once per
    text: traffic repeats the same ones."""
    statement = pl.col("db_statement").cast(pl.String)
    return texts.select(
        "statement_id",
        verb=sql_verb_expr(statement),
        plain_select=~statement.str.contains(r"(?i)\b(?:INSERT|UPDATE|DELETE|FOR\s+UPDATE)\b"),
        placeholders=sql_has_placeholders_expr(statement),
        tables=sql_tables_expr(statement),
        # Reads that differ only in spacing are the same read.
        spaced_id=statement.str.replace_all(r"\s+", " ").rank("dense"),
    )


def _resources(calls: pl.DataFrame, texts: pl.DataFrame) -> pl.DataFrame:
    """One row per (call, resource): the tables a statement names, or the URL path."""
    tables = (
        calls.filter(pl.col("is_db"))
        .select("row", "start_ns", "statement_id")
        .join(texts.select("statement_id", "tables"), on="statement_id")
        .select("row", "start_ns", pl.col("tables").alias("resource"))
        .explode("resource")
        .drop_nulls("resource")
    )
    paths = calls.filter(~pl.col("is_db")).select(
        "row", "start_ns", pl.col("path").cast(pl.String).alias("resource")
    )
    return pl.concat([tables, paths])


def _with_resources(groups: pl.DataFrame, reads: _Reads) -> pl.DataFrame:
    """``resources`` of each group, from the statement or URL of its first read."""
    return groups.join(reads.tables, on="statement_id", how="left").with_columns(
        resources=pl.when(pl.col("is_db"))
        .then(pl.col("tables").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        .otherwise(pl.concat_list(pl.col("path").cast(pl.String)))
    )


def _order(frame: pl.DataFrame, *columns: str) -> pl.Series:
    """The positions of the rows of ``frame`` sorted by ``columns``."""
    return frame.select(pl.arg_sort_by(columns)).to_series()


def _in_order(frame: pl.DataFrame, order: pl.Series, *exprs: pl.Expr) -> pl.DataFrame:
    """``exprs`` evaluated over the rows in ``order``, returned in the frame's own order: only the
    columns the expressions read are put in that order, not a copy of the whole frame."""
    names = sorted({name for expr in exprs for name in expr.meta.root_names()})
    values = frame.select(names)[order].select(exprs)
    return values[_ranks(order)]


def _ranks(order: pl.Series) -> pl.Series:
    """Each row's place in the order that ``order`` (an arg-sort) lists the rows in."""
    ranks = np.empty(order.len(), dtype=np.uint32)
    ranks[order.to_numpy()] = np.arange(order.len(), dtype=np.uint32)
    return pl.Series(ranks)


def _same_as_previous(*columns: str | pl.Expr) -> pl.Expr:
    """Whether a row has the values of the row before it in these columns (the frame is sorted by
    them, so this marks every row of a group but its first)."""
    exprs = [pl.col(c) if isinstance(c, str) else c for c in columns]
    return pl.all_horizontal([(e == e.shift(1)).fill_null(value=False) for e in exprs])
