"""``parallelizable``: independent calls made one after another that could run at once.

::

    GET /profile ─────────────────────────────────────────────
      SELECT * FROM users WHERE id = 42   ──────
      SELECT * FROM prefs WHERE user_id = 42      ─────
      GET recs/users/{id}                               ───────
                                          would take max(...) instead of sum(...)

Siblings under one parent form a sequential run when each starts after every earlier sibling has
ended, with gaps of at most ``max_gap_ms``. A run is a candidate when its operations are all
different (a repeat of one operation is a loop, the ``n_plus_one`` detector's business) and it
saves ``sum of durations - longest`` of at least ``min_saving_ms`` and ``min_saving_share`` of
the parent's duration. Candidates aggregate per (service, parent operation, set of operations) and
are reported when independence is shown by at least one sign:

- values: every call's literal values (SQL literals and bound parameters, URL ids and query values)
  are known and those of each later call are among the first call's (all derived from the request;
  a later call using a value the first did not have probably got it from the first call's result);
- order: across traces the calls run in more than one order (a consumer cannot precede its producer);
- workflow: every step after the first declares ``tsdev.workflow.depends_on`` without naming the
  others.

Evidence: ``traces_affected``, ``traces_total``, ``share_of_traces``, ``occurrences``,
``saving_ms_p50``/``_p95``, ``sequential_ms_p50``, ``saving_share_of_parent_p50``,
``independence`` (the signs seen), ``orders_seen``, ``example_trace_ids`` (largest savings first).
Saving: the summed per-occurrence savings per hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from tsdev.analysis.detectors.base import Detector, examples, ms, per_hour, traces_per_operation
from tsdev.analysis.findings import Finding, severity_for
from tsdev.analysis.fingerprint import fingerprint
from tsdev.analysis.normalize import sql_has_placeholders_expr, sql_values_expr, url_values_expr

_SEP = "\x1f"


@dataclass(frozen=True)
class ParallelizableSettings:
    max_gap_ms: float = 20.0
    """Idle time allowed between one call's end and the next one's start in a sequential run."""
    min_saving_ms: float = 100.0
    min_saving_share: float = 0.10
    """Saving as a share of the parent's duration."""
    min_traces: int = 3
    """Traces an aggregated candidate must appear in (order variation needs several anyway)."""


class ParallelizableDetector(Detector[ParallelizableSettings]):
    kind = "parallelizable"

    @classmethod
    def default_settings(cls) -> ParallelizableSettings:
        return ParallelizableSettings()

    def detect(self, spans: pl.DataFrame, window_s: float) -> list[Finding]:
        runs = self._runs(spans)
        if runs.is_empty():
            return []
        aggregated = (
            runs.sort(["saving_ns", "trace_id"], descending=[True, False])
            .group_by("service", "parent_name", "set_key", maintain_order=True)
            .agg(
                pl.col("trace_id").n_unique().alias("traces_affected"),
                pl.len().alias("occurrences"),
                pl.col("order_key").n_unique().alias("orders_seen"),
                pl.col("values_independent").all(),
                pl.col("workflow_independent").all(),
                pl.col("saving_ns").median().alias("saving_p50"),
                pl.col("saving_ns").quantile(0.95, interpolation="nearest").alias("saving_p95"),
                pl.col("saving_ns").sum().alias("saving_total"),
                pl.col("sum_ns").median().alias("sequential_p50"),
                (pl.col("saving_ns") / pl.col("parent_duration_ns")).median().alias("share_p50"),
                pl.col("trace_id").head(20).alias("trace_ids"),
            )
            .filter(
                (pl.col("traces_affected") >= self.settings.min_traces)
                & (
                    (pl.col("orders_seen") > 1)
                    | pl.col("values_independent")
                    | pl.col("workflow_independent")
                )
            )
        )
        totals = traces_per_operation(spans, aggregated["parent_name"].unique())
        aggregated = aggregated.join(
            totals, left_on=["service", "parent_name"], right_on=["service", "name"], how="left"
        )
        return [_finding(row, window_s) for row in aggregated.iter_rows(named=True)]

    def _runs(self, spans: pl.DataFrame) -> pl.DataFrame:
        """Qualifying sequential runs, one row each, with their independence signs."""
        settings = self.settings
        # Runs are found on a narrow selection; the texts are fetched for the members of wanted runs only.
        children = (
            spans.select(
                "row", "parent_row", "op_id", "start_ns", "end_ns", "duration_ns", "parent_duration_ns"
            )
            .filter(pl.col("parent_row") >= 0)
            .sort(["parent_row", "start_ns", "row"])
        )
        covered_until = pl.col("end_ns").cum_max().shift(1).over("parent_row")
        gap = pl.col("start_ns") - covered_until
        sequential = (gap >= 0) & (gap <= round(settings.max_gap_ms * 1e6))
        children = children.with_columns(run_id=(~sequential.fill_null(value=False)).cum_sum())
        sizes = children.group_by("run_id").agg(
            pl.len().alias("members"),
            pl.col("op_id").n_unique().alias("distinct"),
            (pl.col("duration_ns").sum() - pl.col("duration_ns").max()).alias("saving_ns"),
            pl.col("parent_duration_ns").first(),
        )
        wanted = sizes.filter(
            (pl.col("members") >= 2)
            & (pl.col("distinct") == pl.col("members"))
            & (pl.col("saving_ns") >= round(settings.min_saving_ms * 1e6))
            & (pl.col("saving_ns") >= settings.min_saving_share * pl.col("parent_duration_ns"))
        ).select("run_id")
        chosen = children.join(wanted, on="run_id", how="semi").select("row", "run_id")
        if chosen.is_empty():
            return pl.DataFrame()
        members = (
            spans.select(
                "row", "trace_id", "service", "parent_name", "parent_duration_ns", "operation", "call_type",
                "start_ns", "duration_ns", "db_statement", "db_parameters", "http_url", "workflow_step",
                "workflow_depends_on",
            )
            .join(chosen, on="row")
            .sort(["run_id", "start_ns", "row"])
            .cast({pl.Categorical: pl.String})  # the members of wanted runs only: few enough for strings
        )  # fmt: skip
        members = members.with_columns(values=_values(), index=pl.int_range(pl.len()).over("run_id"))
        first_values = pl.col("values").first().over("run_id")
        later_within_first = pl.col("values").list.set_difference(first_values).list.len() == 0
        value_ok = (
            pl.col("values").is_not_null()
            & first_values.is_not_null()
            & ((pl.col("index") == 0) | later_within_first)
        )
        run_steps = pl.col("workflow_step").over("run_id", mapping_strategy="join")
        depends = pl.col("workflow_depends_on").str.split(",").list.eval(pl.element().str.strip_chars())
        step_ok = (pl.col("workflow_step") != "") & (
            (pl.col("index") == 0)
            | (
                pl.col("workflow_depends_on").is_not_null()
                & (depends.list.set_intersection(run_steps).list.len() == 0)
            )
        )
        return (
            members.with_columns(value_ok=value_ok, step_ok=step_ok)
            .group_by("run_id")
            .agg(
                pl.col("trace_id").first(),
                pl.col("service").first(),
                pl.col("parent_name").first(),
                pl.col("parent_duration_ns").first(),
                pl.col("operation").sort().str.join(_SEP).alias("set_key"),
                pl.col("operation").str.join(_SEP).alias("order_key"),
                pl.col("duration_ns").sum().alias("sum_ns"),
                (pl.col("duration_ns").sum() - pl.col("duration_ns").max()).alias("saving_ns"),
                pl.col("value_ok").all().alias("values_independent"),
                pl.col("step_ok").all().alias("workflow_independent"),
            )
        )


def _values() -> pl.Expr:
    """A call's literal values, or null when they are not all visible (bound but not recorded)."""
    statement = pl.col("db_statement")
    bound = pl.col("db_parameters").str.split("&").list.eval(pl.element().str.replace(r"^[^=]*=", ""))
    sql = (
        pl.when(sql_has_placeholders_expr(statement) & (pl.col("db_parameters") == ""))
        .then(pl.lit(None, dtype=pl.List(pl.String)))
        .when(pl.col("db_parameters") == "")
        .then(sql_values_expr(statement))
        .otherwise(sql_values_expr(statement).list.concat(bound))
    )
    return (
        pl.when((pl.col("call_type") == "db") & (statement != ""))
        .then(sql)
        .when(pl.col("call_type") == "http")
        .then(url_values_expr(pl.col("http_url")))
        .otherwise(pl.lit(None, dtype=pl.List(pl.String)))
    )


def _finding(row: dict[str, Any], window_s: float) -> Finding:
    operations = tuple(row["set_key"].split(_SEP))
    total = max(int(row["traces_total"] or 0), int(row["traces_affected"]))
    share = row["traces_affected"] / total
    signs = [
        name
        for name, seen in (
            ("values", row["values_independent"]),
            ("order_varies", row["orders_seen"] > 1),
            ("workflow", row["workflow_independent"]),
        )
        if seen
    ]
    evidence: dict[str, Any] = {
        "traces_affected": row["traces_affected"],
        "traces_total": total,
        "share_of_traces": round(share, 4),
        "occurrences": row["occurrences"],
        "saving_ms_p50": ms(row["saving_p50"]),
        "saving_ms_p95": ms(row["saving_p95"]),
        "sequential_ms_p50": ms(row["sequential_p50"]),
        "saving_share_of_parent_p50": round(float(row["share_p50"]), 4),
        "independence": signs,
        "orders_seen": row["orders_seen"],
        "example_trace_ids": examples(row["trace_ids"]),
    }
    return Finding(
        kind="parallelizable",
        service=row["service"],
        fingerprint=fingerprint("parallelizable", row["service"], row["parent_name"], operations),
        severity=severity_for(ms(row["saving_p50"]), share),
        title=f"{len(operations)} independent calls run one after another in {row['parent_name']}",
        parent_operation=row["parent_name"],
        operations=operations,
        evidence=evidence,
        estimated_saving_ms_per_hour=per_hour(ms(row["saving_total"]), window_s),
        suggested_change=(
            f"Start these {len(operations)} calls together and wait for all of them (asyncio.gather, a "
            f"thread pool, or parallel workflow steps): about {ms(row['saving_p50']):g} ms less per request."
        ),
    )
