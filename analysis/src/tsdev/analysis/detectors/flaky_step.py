"""``flaky_step``: an operation that fails now and then for reasons outside the code.

::

    runs of "POST payments/charges" over time, same service version
    ok ok ok FAIL ok ok ok ok ok FAIL ok ok FAIL ok ok ok ok ...   (flaky: retry it)
    ok ok ok ok FAIL FAIL FAIL FAIL FAIL FAIL FAIL ok ok ok ...    (an outage: not flaky)
    FAIL FAIL FAIL FAIL FAIL FAIL FAIL FAIL FAIL FAIL FAIL ...     (broken: fix it, do not retry)

An operation (a workflow step, named by ``tsdev.workflow.step``, or any span's normalized operation)
of one service is flaky when, over at least ``min_runs`` runs in the window, its own error rate
(a span whose failure only propagates a failing child does not count; the child does, so one
fault is reported once, where it happens) is between ``min_error_rate`` and ``max_error_rate``,
its failures are interleaved with successes of the same service version (at least
``min_failure_streaks`` separate failure streaks, and at least
``min_interleaving`` streaks per failure), and most failures (``min_transient_share``) carry a
transient signature: timeouts, connection errors, HTTP 408/429/502/503/504, or such exception types
in the span's events.

The suggestion is a retry policy: attempts ``n`` so that ``p ** n <= 1 - target_success`` for the
observed failure probability ``p`` (independent attempts), exponential backoff with full jitter
starting at the median failure latency (a dependency that takes that long to fail needs about that
long to recover), and, when the operation writes (POST, PATCH, INSERT, UPDATE, or a step that makes
such a call), a warning to make it idempotent first (an idempotency key). Retries already in place
(repeated sibling attempts after a failure) are noted.

Evidence: ``runs``, ``failures``, ``error_rate``, ``transient_failure_share``, ``failure_streaks``,
``error_signatures`` (most frequent first), ``service_versions``, ``retries_observed``,
``retried_failure_share``, ``failure_latency_ms_p50``/``_p95``, ``success_latency_ms_p50``,
``idempotent``, ``retry_policy``, ``callers``, ``example_trace_ids`` (failing runs, earliest first).
Saving: the time spent in failed runs per hour, which retries turn into successes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import polars as pl

from tsdev.analysis.detectors.base import NS_PER_MS, Detector, examples, ms, per_hour
from tsdev.analysis.findings import Finding, severity_for
from tsdev.analysis.fingerprint import fingerprint
from tsdev.analysis.normalize import sql_verb_expr
from tsdev.analysis.operations import texts_where

TRANSIENT_HTTP_STATUS = (408, 429, 502, 503, 504)
_TRANSIENT_TEXT = (
    r"(?i)time[ds]?[ _-]?out|timeout|connection|connect\b|reset by peer|refused|unreachable|unavailable|"
    r"temporar|deadlock|too many requests|throttl|broken pipe|eof"
)
_NON_IDEMPOTENT_METHODS = ("POST", "PATCH")
_NON_IDEMPOTENT_VERBS = ("INSERT", "UPDATE")


@dataclass(frozen=True)
class FlakyStepSettings:
    min_runs: int = 50
    """Runs in the window below which an error rate is noise."""
    min_error_rate: float = 0.005
    max_error_rate: float = 0.5
    """Above half failing, the operation is broken rather than flaky."""
    min_transient_share: float = 0.5
    """Share of failures that must look transient (timeouts, 5xx gateways, connection errors)."""
    min_failure_streaks: int = 3
    min_interleaving: float = 0.3
    """Failure streaks per failure: 1.0 is every failure alone, near 0 one long outage."""
    target_success: float = 0.999
    """Step success the suggested retry policy aims for."""
    min_backoff_ms: float = 50.0
    max_backoff_ms: float = 5000.0


class FlakyStepDetector(Detector[FlakyStepSettings]):
    kind = "flaky_step"

    @classmethod
    def default_settings(cls) -> FlakyStepSettings:
        return FlakyStepSettings()

    def detect(self, spans: pl.DataFrame, window_s: float) -> list[Finding]:
        settings = self.settings
        runs = _runs(spans, settings.min_runs)
        stats = (
            runs.group_by("service", "flaky_op")
            .agg(
                pl.len().alias("runs"),
                pl.col("failed").sum().alias("failures"),
                (pl.col("failed") & pl.col("transient")).sum().alias("transient_failures"),
                pl.col("streak_start").sum().alias("failure_streaks"),
                (pl.col("failed") & pl.col("retried")).sum().alias("retried_failures"),
                pl.col("attempt").max().alias("max_attempts_seen"),
                pl.col("duration_ns").filter(pl.col("failed")).median().alias("fail_p50"),
                pl.col("duration_ns")
                .filter(pl.col("failed"))
                .quantile(0.95, interpolation="nearest")
                .alias("fail_p95"),
                pl.col("duration_ns").filter(pl.col("failed")).sum().alias("fail_total"),
                pl.col("duration_ns").filter(~pl.col("failed")).median().alias("ok_p50"),
                pl.col("writes").any().alias("writes"),
                pl.col("service_version").unique().sort().alias("service_versions"),
                pl.col("workflow_parent").filter(pl.col("workflow_parent") != "").first().alias("workflow"),
                pl.col("parent_name")
                .filter(pl.col("parent_name") != "")
                .unique()
                .sort()
                .head(5)
                .alias("callers"),
                pl.col("signature").filter(pl.col("failed")).alias("signatures"),
                pl.col("trace_id").filter(pl.col("failed")).head(20).alias("trace_ids"),
            )
            .with_columns(error_rate=pl.col("failures") / pl.col("runs"))
            .filter(
                (pl.col("runs") >= settings.min_runs)
                & (pl.col("error_rate") >= settings.min_error_rate)
                & (pl.col("error_rate") <= settings.max_error_rate)
                & (pl.col("transient_failures") >= settings.min_transient_share * pl.col("failures"))
                & (pl.col("failure_streaks") >= settings.min_failure_streaks)
                & (pl.col("failure_streaks") >= settings.min_interleaving * pl.col("failures"))
            )
            .sort("service", "flaky_op")
        )
        return [self._finding(row, window_s) for row in stats.iter_rows(named=True)]

    def _finding(self, row: dict[str, Any], window_s: float) -> Finding:
        settings = self.settings
        rate = float(row["error_rate"])
        attempts = max(2, math.ceil(math.log(1.0 - settings.target_success) / math.log(rate)))
        initial = min(
            max(float(row["fail_p50"]) / NS_PER_MS, settings.min_backoff_ms), settings.max_backoff_ms
        )
        initial = float(round(initial))
        ceiling = min(initial * 2 ** (attempts - 2), settings.max_backoff_ms)
        idempotent = not row["writes"]
        policy = {
            "attempts": attempts,
            "initial_backoff_ms": initial,
            "multiplier": 2.0,
            "max_backoff_ms": ceiling,
            "jitter": "full",
            "expected_success": round(1.0 - rate**attempts, 6),
        }
        signatures = pl.Series(row["signatures"], dtype=pl.String).value_counts(sort=True, name="n")
        signatures = signatures.sort(["n", ""], descending=[True, False]).head(5)
        retried_share = row["retried_failures"] / row["failures"]
        evidence: dict[str, Any] = {
            "runs": row["runs"],
            "failures": row["failures"],
            "error_rate": round(rate, 4),
            "transient_failure_share": round(row["transient_failures"] / row["failures"], 4),
            "failure_streaks": row["failure_streaks"],
            "error_signatures": [{"signature": s, "count": n} for s, n in signatures.iter_rows()],
            "service_versions": row["service_versions"],
            "retries_observed": row["retried_failures"] > 0,
            "retried_failure_share": round(retried_share, 4),
            "failure_latency_ms_p50": ms(row["fail_p50"]),
            "failure_latency_ms_p95": ms(row["fail_p95"]),
            "success_latency_ms_p50": ms(row["ok_p50"]),
            "idempotent": idempotent,
            "retry_policy": policy,
            "callers": row["callers"],
            "example_trace_ids": examples(row["trace_ids"]),
        }
        op = row["flaky_op"]
        change = (
            f"Retry {op} up to {attempts} attempts in total with exponential backoff and full jitter "
            f"(first wait up to {initial:g} ms, doubling, at most {ceiling:g} ms): with the observed "
            f"{rate:.2%} failure rate that reaches {policy['expected_success']:.4%} success."
        )
        if row["retried_failures"] > 0:
            change += (
                f" Retries already happen for {retried_share:.0%} of failures (up to "
                f"{row['max_attempts_seen']} attempts seen); align them with this policy."
            )
        if not idempotent:
            change += (
                " Warning: the operation writes, so a retry after a timeout can apply it twice; make it "
                "idempotent first (send an idempotency key, or upsert) before retrying."
            )
        parent = row["workflow"] or ""
        return Finding(
            kind="flaky_step",
            service=row["service"],
            fingerprint=fingerprint("flaky_step", row["service"], parent, (op,)),
            severity=severity_for(ms(row["fail_p50"]), rate),
            title=f"Flaky {op}: {rate:.1%} of {row['runs']} runs fail transiently",
            parent_operation=parent,
            operations=(op,),
            evidence=evidence,
            estimated_saving_ms_per_hour=per_hour(ms(row["fail_total"]), window_s),
            suggested_change=change,
        )


def _runs(spans: pl.DataFrame, min_runs: int) -> pl.DataFrame:
    """One row per run with its own-failure flag, signature, streak start, retry and write flags."""
    spans = spans.select(
        "row", "trace_id", "parent_row", "parent_name", "service", "service_version", "kind", "status",
        "status_message", "http_method", "http_status", "statement_id", "operation", "workflow_step",
        "start_ns", "duration_ns", "exception_types",
        _writing_statement(spans).alias("writing_statement"),
    )  # fmt: skip
    failed_parents = (
        spans.filter(pl.col("status") == "Error")
        .select(pl.col("parent_row").alias("row"))
        .unique()
        .with_columns(has_failing_child=pl.lit(value=True))
    )
    writing_methods = texts_where(
        spans["http_method"], lambda m: m.str.to_uppercase().is_in(_NON_IDEMPOTENT_METHODS)
    )
    writes = (pl.col("http_method").is_in(writing_methods.implode()) & (pl.col("kind") == "Client")) | pl.col(
        "writing_statement"
    )
    writing_parents = (
        spans.filter(writes)
        .select(pl.col("parent_row").alias("row"))
        .unique()
        .with_columns(child_writes=pl.lit(value=True))
    )
    is_step = pl.col("workflow_step") != ""
    # Only operations with enough runs and some error can qualify; the rest skip the text matching.
    flaky_op = pl.when(is_step).then(pl.col("workflow_step")).otherwise(pl.col("operation"))
    candidates = (
        spans.group_by("service", flaky_op.alias("flaky_op"))
        .agg(pl.len().alias("n"), (pl.col("status") == "Error").sum().alias("errors"))
        .filter((pl.col("n") >= min_runs) & (pl.col("errors") > 0))
        .select("service", "flaky_op")
    )
    spans = spans.with_columns(flaky_op=flaky_op).join(candidates, on=["service", "flaky_op"], how="semi")
    runs = (
        spans.join(failed_parents, on="row", how="left")
        .join(writing_parents, on="row", how="left")
        .with_columns(
            failed=(pl.col("status") == "Error") & pl.col("has_failing_child").is_null(),
            writes=writes | (is_step & pl.col("child_writes").fill_null(value=False)),
            workflow_parent=pl.when(is_step).then(pl.col("parent_name")).otherwise(pl.lit("")),
        )
    )
    exception = pl.col("exception_types").list.join(" ")
    transient_messages = texts_where(runs["status_message"], lambda m: m.str.contains(_TRANSIENT_TEXT))
    transient = (
        pl.col("http_status").is_in(TRANSIENT_HTTP_STATUS).fill_null(value=False)
        | pl.col("status_message").is_in(transient_messages.implode())
        | exception.str.contains(_TRANSIENT_TEXT)
    )
    signature = (
        pl.when(pl.col("exception_types").list.len() > 0)
        .then(pl.col("exception_types").list.first())
        .when(pl.col("http_status").is_not_null() & (pl.col("http_status") >= 400))
        .then(pl.concat_str(pl.lit("HTTP "), pl.col("http_status").cast(pl.String)))
        .otherwise(pl.col("status_message").cast(pl.String).str.slice(0, 80))
    )
    version_keys = ["service", "flaky_op", "service_version"]
    sibling_keys = ["service", "flaky_op", "parent_row"]
    return (
        runs.sort([*version_keys, "start_ns", "row"])
        .with_columns(
            transient=transient,
            signature=signature,
            streak_start=pl.col("failed") & ~pl.col("failed").shift(1, fill_value=False).over(version_keys),
        )
        .sort([*sibling_keys, "start_ns", "row"])
        .with_columns(
            retried=pl.col("failed")
            & (pl.col("row").shift(-1).over(sibling_keys).is_not_null())
            & (pl.col("parent_row") >= 0),
            attempt=pl.when(pl.col("parent_row") >= 0)
            .then(pl.int_range(1, pl.len() + 1).over(sibling_keys))
            .otherwise(pl.lit(1, dtype=pl.Int64)),
        )
    )


def _writing_statement(spans: pl.DataFrame) -> pl.Series:
    """Whether each span's statement inserts or updates, decided once per distinct statement."""
    texts = spans.select("statement_id", "db_statement").unique("statement_id")
    texts = texts.select(
        "statement_id",
        writes=sql_verb_expr(pl.col("db_statement").cast(pl.String)).is_in(_NON_IDEMPOTENT_VERBS),
    )
    ids = spans.select("statement_id")
    return ids.join(texts, on="statement_id", how="left", maintain_order="left")["writes"]
