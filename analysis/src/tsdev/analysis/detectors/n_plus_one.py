"""``n_plus_one``: the same call made once per item instead of once per list.

::

    GET /orders ───────────────────────────────────────────────  (parent)
      SELECT * FROM orders WHERE user_id = ?   ───                (source)
      SELECT * FROM items WHERE order_id = ?       ─              (repeat 1)
      SELECT * FROM items WHERE order_id = ?        ─             (repeat 2)
      ...                                              ─ ─ ─      (repeat 5+)

Single-call loops: under one parent, at least ``min_repeats`` calls with the same normalized
operation whose combined time (the union of their intervals, so concurrent repeats count once) is
at least ``min_total_ms``. Multi-call loops (ORMs and GraphQL resolvers): under one service entry
span, a sequence of ``min_pattern_calls``..``max_pattern_calls`` different calls repeated at least
``min_pattern_repeats`` times in a row, e.g. ``(author, comments) x N``; reported as the same kind
with the pattern in the evidence. Cache commands, connection and cursor-fetch spans, transaction
control and truncated statements never count, and a repeat of exactly the same read (same text,
same values) is left to the ``cacheable`` detector, since batching cannot help it.

Findings aggregate per (service, parent operation, repeated operation or pattern). Evidence:
``traces_affected``, ``traces_total`` (traces that ran the parent operation), ``share_of_traces``,
``occurrences``, ``repeats_per_trace_p50``/``_max``, ``repeat_time_ms_p50``/``_p95``,
``saving_ms_p50``, ``call_type``, ``source_operation`` (the call just before the first repeat, the
usual origin of the list), ``pattern`` (multi-call loops only), ``code_location`` when the spans
carry ``code.*`` attributes, ``example_trace_ids`` (the costliest occurrences first).

Saving: a batched call does about the work of one iteration, so an occurrence saves
``repeat time x (1 - 1/repeats)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from tsdev.analysis.detectors.base import (
    Detector,
    examples,
    ms,
    per_hour,
    top_value,
    traces_per_operation,
)
from tsdev.analysis.findings import Finding, severity_for
from tsdev.analysis.fingerprint import fingerprint
from tsdev.analysis.normalize import sql_has_placeholders_expr

_CALL_TYPES = ("db", "http", "rpc")
_PATTERN_SCHEMA: dict[str, pl.DataType] = {
    "signature": pl.String(),
    "pattern": pl.List(pl.String()),
    "canonical": pl.List(pl.String()),
    "call_type": pl.String(),
    "repeats": pl.Int64(),
    "union_ns": pl.Int64(),
    "source_operation": pl.String(),
}
_OCCURRENCE_SCHEMA: dict[str, pl.DataType] = {
    "trace_id": pl.String(),
    "service": pl.String(),
    "parent_operation": pl.String(),
    **_PATTERN_SCHEMA,
    "code_function": pl.String(),
    "code_filepath": pl.String(),
    "code_lineno": pl.Int32(),
}


@dataclass(frozen=True)
class NPlusOneSettings:
    min_repeats: int = 5
    """Calls of one operation under one parent that make a loop (4 is still a coincidence)."""
    min_total_ms: float = 50.0
    """Union of the repeats' intervals below which a loop is not worth a change."""
    min_pattern_calls: int = 2
    max_pattern_calls: int = 8
    """Length range of a repeated multi-call sequence."""
    min_pattern_repeats: int = 3
    """Back-to-back repetitions of a multi-call sequence that make a loop."""


class NPlusOneDetector(Detector[NPlusOneSettings]):
    kind = "n_plus_one"

    @classmethod
    def default_settings(cls) -> NPlusOneSettings:
        return NPlusOneSettings()

    def detect(self, spans: pl.DataFrame, window_s: float) -> list[Finding]:
        # Calls are searched on integer columns only; ``pos`` (the span's position in the frame)
        # fetches the texts of what is reported.
        is_call = (
            pl.col("call_type").is_in(_CALL_TYPES) & ~pl.col("excluded_call") & (pl.col("parent_row") >= 0)
        )
        calls = (
            spans.lazy()
            .with_row_index("pos")
            .filter(is_call)
            .select(
                "pos", "row", "parent_row", "entry_row", "op_id", "statement_id", "start_ns", "end_ns",
                pl.col("db_parameters").to_physical().alias("parameters_code"),
                pl.col("http_url").to_physical().alias("url_code"),
            )
            .collect()
        )  # fmt: skip
        if calls.is_empty():
            return []
        patterns, covered = self._patterns(calls, spans)
        if not covered.is_empty():  # replaced, not kept beside: a filter copies every call
            calls = calls.filter(~pl.col("row").is_in(covered.implode()))
        singles = self._singles(calls, spans)
        occurrences = pl.concat([singles, patterns]).filter(
            pl.col("union_ns") >= round(self.settings.min_total_ms * 1e6)
        )
        if occurrences.is_empty():
            return []
        totals = traces_per_operation(spans, occurrences["parent_operation"].unique())
        return _findings(occurrences, totals, window_s)

    def _singles(self, calls: pl.DataFrame, spans: pl.DataFrame) -> pl.DataFrame:
        settings = self.settings
        # A parent's calls of one operation (the parent's row fixes the trace).
        keys = ["parent_row", "op_id"]
        loops = (
            calls.group_by(keys)
            .agg(pl.len().alias("repeats"))
            .filter(pl.col("repeats") >= settings.min_repeats)
            .select(keys)
        )
        ordered = calls.join(loops, on=keys, how="semi").sort([*keys, "start_ns", "row"])
        covered_until = pl.col("end_ns").cum_max().shift(1).over(keys)
        added = (
            pl.col("end_ns")
            - pl.max_horizontal(pl.col("start_ns"), covered_until.fill_null(pl.col("start_ns")))
        ).clip(lower_bound=0)
        one_read = [
            (pl.col(c).min() == pl.col(c).max()) for c in ("statement_id", "parameters_code", "url_code")
        ]
        groups = (
            ordered.with_columns(added=added)
            .group_by(keys)
            .agg(
                pl.col("pos").first(),
                pl.len().cast(pl.Int64).alias("repeats"),
                pl.col("added").sum().cast(pl.Int64).alias("union_ns"),
                pl.col("start_ns").min().alias("first_start_ns"),
                pl.all_horizontal(one_read).alias("one_read"),
            )
            .filter(pl.col("union_ns") >= round(settings.min_total_ms * 1e6))
        )
        groups = groups.hstack(
            _texts(spans, groups["pos"], "trace_id", "service", "parent_name", "operation", "call_type",
                   "db_statement", "code_function", "code_filepath", "code_lineno")
        )  # fmt: skip
        # One read repeated verbatim (values known, not bound elsewhere) is a memoization case.
        same_read = pl.col("one_read") & ~sql_has_placeholders_expr(pl.col("db_statement"))
        groups = groups.filter(~same_read).sort("first_start_ns", "parent_row", "op_id")
        sources = (
            calls.join(groups.select("parent_row").unique(), on="parent_row", how="semi")
            .select("parent_row", "start_ns", pl.col("pos").alias("source_pos"))
            .sort("start_ns", "parent_row")
        )
        with_source = groups.join_asof(
            sources, left_on="first_start_ns", right_on="start_ns", by="parent_row",
            strategy="backward", allow_exact_matches=False, check_sortedness=False,
        )  # fmt: skip
        source = spans["operation"].gather(with_source["source_pos"]).cast(pl.String).fill_null("")
        return with_source.select(
            "trace_id", "service", pl.col("parent_name").alias("parent_operation"),
            pl.col("operation").alias("signature"),
            pl.lit(None, dtype=pl.List(pl.String)).alias("pattern"),
            pl.concat_list("operation").alias("canonical"),
            "call_type", "repeats", "union_ns",
            source.alias("source_operation"),
            "code_function", "code_filepath", "code_lineno",
        )  # fmt: skip

    def _patterns(self, calls: pl.DataFrame, spans: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
        """Periodic runs of distinct calls under one entry span, found by comparing each call with
        the call ``k`` positions later for every period ``k``; runs whose first period repeats an
        operation (single-call loops, the common case) are dropped vectorized, so only real
        multi-call loops reach Python, one iteration each."""
        settings = self.settings
        seq = calls.select("pos", "row", "entry_row", "op_id", "start_ns", "end_ns").sort(
            ["entry_row", "start_ns", "row"]
        )
        ops = seq["op_id"].to_numpy()
        group = seq["entry_row"].to_numpy()
        starts_ns = seq["start_ns"].to_numpy()
        ends_ns = seq["end_ns"].to_numpy()
        n = seq.height
        covered = np.zeros(n, dtype=bool)
        found: list[tuple[int, int, int, int]] = []
        for k in range(settings.min_pattern_calls, settings.max_pattern_calls + 1):
            if n <= k:
                break
            same = np.zeros(n, dtype=np.int8)
            same[:-k] = (ops[:-k] == ops[k:]) & (group[:-k] == group[k:])
            edges = np.diff(np.concatenate(([0], same, [0])))
            run_starts = np.flatnonzero(edges == 1)
            run_lengths = np.flatnonzero(edges == -1) - run_starts
            wanted = run_lengths >= (settings.min_pattern_repeats - 1) * k
            run_starts, run_lengths = run_starts[wanted], run_lengths[wanted]
            distinct = _distinct_periods(ops, run_starts, k)
            for start, length in zip(run_starts[distinct], run_lengths[distinct], strict=True):
                repeats = (int(length) + k) // k
                stop = int(start) + repeats * k
                if covered[start:stop].any():
                    continue
                covered[start:stop] = True
                found.append((int(start), stop, k, repeats))
        covered_rows = seq.filter(pl.Series(covered))["row"]
        if not found:
            return pl.DataFrame(schema=_OCCURRENCE_SCHEMA), covered_rows
        wanted_ops = np.unique(
            np.concatenate([ops[max(start - 1, 0) : start + k] for start, _, k, _ in found])
        )
        operations = (
            spans.select("op_id", "operation")
            .filter(pl.col("op_id").is_in(pl.Series(wanted_ops, dtype=pl.UInt32).implode()))
            .unique("op_id")
        )
        text = dict(zip(operations["op_id"].to_list(), operations["operation"].to_list(), strict=True))
        positions = seq["pos"].to_numpy()
        occurrences = [
            _pattern_occurrence(ops, group, text, start, stop, k, repeats, starts_ns, ends_ns)
            for start, stop, k, repeats in found
        ]
        firsts = pl.Series([positions[start] for start, _, _, _ in found], dtype=pl.UInt32)
        first = _texts(
            spans,
            firsts,
            "trace_id",
            "service",
            "entry_name",
            "code_function",
            "code_filepath",
            "code_lineno",
        )
        frame = pl.DataFrame(occurrences, schema=_PATTERN_SCHEMA, orient="row").hstack(first)
        columns = [pl.col(c) for c in _OCCURRENCE_SCHEMA if c != "parent_operation"]
        columns.insert(2, pl.col("entry_name").alias("parent_operation"))
        return frame.select(columns), covered_rows


def _texts(spans: pl.DataFrame, positions: pl.Series, *columns: str) -> pl.DataFrame:
    """Columns of the spans at ``positions`` (of the few reported groups), categoricals as text."""
    return spans.select(pl.col(columns).gather(positions)).cast({pl.Categorical: pl.String})


def _distinct_periods(ops: np.ndarray, starts: np.ndarray, k: int) -> np.ndarray:
    """Whether the ``k`` operations from each start are all different (pairwise, vectorized)."""
    distinct = np.ones(len(starts), dtype=bool)
    for i in range(k):
        for j in range(i + 1, k):
            distinct &= ops[starts + i] != ops[starts + j]
    return distinct


def _pattern_occurrence(
    ops: Any, group: Any, text: dict[int, str], start: int, stop: int, k: int, repeats: int,
    starts_ns: Any, ends_ns: Any,
) -> tuple[Any, ...]:  # fmt: skip
    pattern = [text[int(op)] for op in ops[start : start + k]]
    rotations = [tuple(pattern[i:] + pattern[:i]) for i in range(k)]
    canonical = list(min(rotations))  # the fingerprint must not depend on where the loop was entered
    before = start - 1
    source = ""
    if before >= 0 and group[before] == group[start]:
        source = text[int(ops[before])]
    begin, end = starts_ns[start:stop], ends_ns[start:stop]
    covered_until = np.concatenate(([begin[0]], np.maximum.accumulate(end)[:-1]))
    union = int(np.sum(np.clip(end - np.maximum(begin, covered_until), 0, None)))
    return (" -> ".join(canonical), pattern, canonical, "pattern", repeats, union, source)


def _findings(occurrences: pl.DataFrame, totals: pl.DataFrame, window_s: float) -> list[Finding]:
    saving = pl.col("union_ns") * (1.0 - 1.0 / pl.col("repeats"))
    stats = (
        occurrences.with_columns(saving_ns=saving)
        .sort(["union_ns", "trace_id"], descending=[True, False])
        .group_by("service", "parent_operation", "signature", maintain_order=True)
        .agg(
            pl.col("pattern").first(),
            pl.col("canonical").first(),
            pl.col("call_type").first(),
            pl.col("trace_id").n_unique().alias("traces_affected"),
            pl.len().alias("occurrences"),
            pl.col("repeats").median().alias("repeats_p50"),
            pl.col("repeats").max().alias("repeats_max"),
            pl.col("union_ns").median().alias("union_p50"),
            pl.col("union_ns").quantile(0.95, interpolation="nearest").alias("union_p95"),
            pl.col("saving_ns").median().alias("saving_p50"),
            pl.col("saving_ns").sum().alias("saving_total"),
            top_value(pl.col("source_operation").replace("", None)).alias("source_operation"),
            pl.col("trace_id").head(20).alias("trace_ids"),
            pl.col("code_function").filter(pl.col("code_function") != "").first(),
            pl.col("code_filepath").filter(pl.col("code_filepath") != "").first(),
            pl.col("code_lineno").drop_nulls().first(),
        )
        .join(totals, left_on=["service", "parent_operation"], right_on=["service", "name"], how="left")
    )
    return [_finding(row, window_s) for row in stats.iter_rows(named=True)]


def _finding(row: dict[str, Any], window_s: float) -> Finding:
    total = max(int(row["traces_total"] or 0), int(row["traces_affected"]))
    share = row["traces_affected"] / total
    pattern = row["pattern"]
    operations = tuple(row["canonical"])
    evidence: dict[str, Any] = {
        "traces_affected": row["traces_affected"],
        "traces_total": total,
        "share_of_traces": round(share, 4),
        "occurrences": row["occurrences"],
        "repeats_per_trace_p50": row["repeats_p50"],
        "repeats_per_trace_max": row["repeats_max"],
        "repeat_time_ms_p50": ms(row["union_p50"]),
        "repeat_time_ms_p95": ms(row["union_p95"]),
        "saving_ms_p50": ms(row["saving_p50"]),
        "call_type": row["call_type"],
        "source_operation": row["source_operation"],
        "example_trace_ids": examples(row["trace_ids"]),
    }
    if pattern is not None:
        evidence["pattern"] = list(pattern)
    if row["code_function"] or row["code_filepath"]:
        evidence["code_location"] = {
            "function": row["code_function"] or "",
            "filepath": row["code_filepath"] or "",
            "lineno": row["code_lineno"],
        }
    if pattern is not None:
        repeats = f"~{row['repeats_p50']:g} times"
        title = f"{len(pattern)} calls repeated per item {repeats} in {row['parent_operation']}"
        change = (
            "Each item triggers the same sequence of calls: load the related data for all items at once "
            "(eager-load the relations, or a dataloader that batches each call across items)."
        )
    elif row["call_type"] == "db":
        title = f"N+1 query in {row['parent_operation']}: {row['signature']} ~{row['repeats_p50']:g} times"
        change = (
            "Fetch all rows in one query (WHERE ... IN (...) or a join) or eager-load the relation, "
            "instead of one query per item."
        )
    else:
        title = f"N+1 calls in {row['parent_operation']}: {row['signature']} ~{row['repeats_p50']:g} times"
        change = (
            "Use the service's batch endpoint (or add one) to fetch all items in one call "
            "instead of one per item."
        )
    return Finding(
        kind="n_plus_one",
        service=row["service"],
        fingerprint=fingerprint("n_plus_one", row["service"], row["parent_operation"], operations),
        severity=severity_for(ms(row["saving_p50"]), share),
        title=title,
        parent_operation=row["parent_operation"],
        operations=operations,
        evidence=evidence,
        estimated_saving_ms_per_hour=per_hour(ms(row["saving_total"]), window_s),
        suggested_change=change,
    )
