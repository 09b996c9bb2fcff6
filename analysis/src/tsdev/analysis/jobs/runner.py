"""The analysis job: read a window of spans, run every detector, upsert what they found.

Plain functions with the store passed in, so the embedded scheduler, the Celery tasks and the API's
"analyze now" all run exactly this code. Windows are half-open ``[start, end)`` in span time, so
consecutive windows never read a span twice; the incremental job keeps the end of the last window it
finished as a watermark and writes it only after the window's findings are stored. A crash between
the two re-runs the window, which is harmless because upserting a window twice changes nothing.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any, Final

import polars as pl
import pyarrow as pa

from tsdev.analysis.detectors import DETECTORS
from tsdev.analysis.detectors.base import Detector
from tsdev.analysis.findings import Finding
from tsdev.analysis.jobs import repository
from tsdev.analysis.jobs.records import ACTIVE, FindingRecord, Window, observe, resolve_if_gone
from tsdev.analysis.operations import annotate
from tsdev.analysis.spans import SPAN_READ_SETTINGS, SPAN_SCHEMA, span_frame, span_select_sql
from tsdev.core.store import Store
from tsdev.core.store.tables import TRACES

logger = logging.getLogger(__name__)

NS_PER_S: Final = 1_000_000_000
SCHEDULED_JOB: Final = "detectors"
SETTLE_S: Final = 60.0
"""The incremental job stops this far before now: spans arrive after their trace ends (and exporters
batch), so the newest minute is still filling."""
FIRST_LOOKBACK_S: Final = 3600.0
"""How far back the first scheduled run starts, when no watermark exists yet."""
READ_SLICES: Final = 4
"""Parts a window's spans are read in (see :func:`read_spans`)."""
MAX_WINDOW_S: Final = 3600.0
"""Longest window analysed in one pass; longer ranges are split, which bounds memory when a server
catches up after downtime and lets callers show progress."""


@dataclass
class AnalysisSummary:
    """What one pass over one window did."""

    window: Window
    spans: int = 0
    traces: int = 0
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    regressed: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    findings: list[FindingRecord] = field(default_factory=list)
    """The records this pass detected, as stored after it."""
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able digest (fingerprints only), for Celery results and logs."""
        return {
            "start_ns": self.window.start_ns, "end_ns": self.window.end_ns, "spans": self.spans,
            "traces": self.traces, "new": self.new, "updated": self.updated, "regressed": self.regressed,
            "resolved": self.resolved, "detected": sorted(r.fingerprint for r in self.findings),
            "duration_s": self.duration_s,
        }  # fmt: skip


def read_spans(store: Store, window: Window, *, slices: int = READ_SLICES) -> pl.DataFrame:
    """The span frame of ``window``; only the frame's columns cross the wire (Arrow into polars).

    The window is read in ``slices`` consecutive parts of about as many spans each, every part turned
    into span-frame columns before the next is read: the store's Arrow output for a whole window
    would otherwise sit in memory at once, beside the frame made from it."""
    sql = span_select_sql(store.table(TRACES))
    parts = [
        span_frame(store.query_arrow(sql, _bounds(part), SPAN_READ_SETTINGS))
        for part in _read_slices(store, window, slices)
    ]
    store.release_memory()
    # One contiguous array per column, built column by column so the parts are freed as it goes:
    # polars copies a whole frame whose columns are chunked differently (as they are once annotate()
    # adds its single-array columns) before many operations, in every detector.
    columns = [pl.concat([part.drop_in_place(name) for part in parts], rechunk=True) for name in SPAN_SCHEMA]
    # Arrow's allocator keeps the buffers the conversion freed for later Arrow work, which the
    # detectors do not do: hand them back before they run.
    pa.default_memory_pool().release_unused()
    return pl.DataFrame(columns)


def _read_slices(store: Store, window: Window, slices: int) -> list[Window]:
    """``window`` cut where its spans' start times reach each ``1/slices`` quantile."""
    if slices <= 1:
        return [window]
    levels = ", ".join(str(i / slices) for i in range(1, slices))
    rows = store.query_rows(
        f"SELECT quantiles({levels})(toUnixTimestamp64Nano(Timestamp)) FROM {store.table(TRACES)} "  # noqa: S608
        "WHERE Timestamp >= {start:DateTime64(9)} AND Timestamp < {end:DateTime64(9)}",
        _bounds(window),
    )
    cuts = sorted({int(c) for c in rows[0][0] if not math.isnan(c) and window.start_ns < c < window.end_ns})
    edges = [window.start_ns, *cuts, window.end_ns]
    return [Window(start, end) for start, end in pairwise(edges)]


def detect(
    spans: pl.DataFrame, window_s: float, detectors: Sequence[Detector[Any]] | None = None
) -> list[Finding]:
    """Findings of every detector; one detector failing is logged and does not hide the others.

    The frame is annotated once here: each detector would otherwise derive the same columns again."""
    found: list[Finding] = []
    if not spans.is_empty():
        spans = annotate(spans)
    for detector in detectors if detectors is not None else [cls() for cls in DETECTORS]:
        try:
            found.extend(detector.run(spans, window_s=window_s))
        except Exception:
            logger.exception("detector %s failed on a window of %s spans", detector.kind, spans.height)
    return found


def analyze_window(
    store: Store,
    window: Window,
    *,
    detectors: Sequence[Detector[Any]] | None = None,
    now_ns: int | None = None,
) -> AnalysisSummary:
    """Detect in ``window`` and upsert the findings: new ones open, known ones update, resolved ones
    that show up again regress, and active ones whose service moved to a version that no longer shows
    them resolve."""
    started = time.monotonic()
    now = now_ns if now_ns is not None else time.time_ns()
    summary = AnalysisSummary(window)
    spans = read_spans(store, window)
    summary.spans = spans.height
    if spans.is_empty():
        summary.duration_s = time.monotonic() - started
        return summary
    summary.traces = spans["trace_id"].n_unique()
    findings = detect(spans, window.seconds, detectors)
    seen = (int(spans["start_ns"].min()), int(spans["end_ns"].max()))  # type: ignore[arg-type]
    with repository.WRITE_LOCK:
        existing = repository.get_many(store, (f.fingerprint for f in findings))
        changed: list[FindingRecord] = []
        for finding in findings:
            before = existing.get(finding.fingerprint)
            record = observe(before, finding, window, seen, _versions_showing(spans, finding), now)
            changed.append(record)
            if before is None:
                summary.new.append(record.fingerprint)
            elif record.status == "regressed" and before.status == "resolved":
                summary.regressed.append(record.fingerprint)
            else:
                summary.updated.append(record.fingerprint)
        detected = {f.fingerprint for f in findings}
        candidates = repository.active_of_services(store, spans["service"].unique().to_list(), ACTIVE)
        for record in candidates:
            if record.fingerprint in detected:
                continue
            resolved = resolve_if_gone(record, _versions_after(spans, record), now)
            if resolved is not None:
                changed.append(resolved)
                summary.resolved.append(record.fingerprint)
        stored = repository.write(store, changed)
    summary.findings = [r for r in stored if r.fingerprint in detected]
    summary.duration_s = time.monotonic() - started
    logger.info(
        "analysed %s spans of %s traces: %s new, %s updated, %s regressed, %s resolved findings",
        summary.spans, summary.traces, len(summary.new), len(summary.updated), len(summary.regressed),
        len(summary.resolved),
    )  # fmt: skip
    return summary


def split(window: Window, max_window_s: float = MAX_WINDOW_S) -> list[Window]:
    """``window`` cut into consecutive windows of at most ``max_window_s``."""
    step = max(1, int(max_window_s * NS_PER_S))
    return [
        Window(start, min(start + step, window.end_ns))
        for start in range(window.start_ns, window.end_ns, step)
    ]


def analyze_range(
    store: Store,
    window: Window,
    *,
    max_window_s: float = MAX_WINDOW_S,
    detectors: Sequence[Detector[Any]] | None = None,
) -> AnalysisSummary:
    """:func:`analyze_window` over a range of any length, one window of at most ``max_window_s`` at
    a time (bounded memory), summed into one summary whose ``findings`` are the latest records."""
    total = AnalysisSummary(window)
    latest: dict[str, FindingRecord] = {}
    for part in split(window, max_window_s):
        summary = analyze_window(store, part, detectors=detectors)
        total.spans += summary.spans
        total.traces += summary.traces
        total.duration_s += summary.duration_s
        for name in ("new", "updated", "regressed", "resolved"):
            mine: list[str] = getattr(total, name)
            mine.extend(fp for fp in getattr(summary, name) if fp not in mine)
        latest.update((r.fingerprint, r) for r in summary.findings)
    total.updated = [fp for fp in total.updated if fp not in total.new]
    total.findings = list(latest.values())
    return total


def run_incremental(
    store: Store,
    *,
    job: str = SCHEDULED_JOB,
    now_ns: int | None = None,
    settle_s: float = SETTLE_S,
    first_lookback_s: float = FIRST_LOOKBACK_S,
    max_window_s: float = MAX_WINDOW_S,
    detectors: Sequence[Detector[Any]] | None = None,
) -> list[AnalysisSummary]:
    """Analyse everything between the stored watermark and ``now - settle_s``, window by window,
    moving the watermark after each one."""
    now = now_ns if now_ns is not None else time.time_ns()
    end = now - int(settle_s * NS_PER_S)
    start = repository.get_watermark(store, job)
    if start is None:
        start = end - int(first_lookback_s * NS_PER_S)
    if end <= start:
        return []
    summaries = []
    for window in split(Window(start, end), max_window_s):
        summaries.append(analyze_window(store, window, detectors=detectors, now_ns=now))
        repository.set_watermark(store, job, window.end_ns)
    return summaries


def _versions_showing(spans: pl.DataFrame, finding: Finding) -> list[str]:
    """Versions of the finding's service in its example traces: where the pattern was seen."""
    examples = finding.evidence.get("example_trace_ids")
    ids = [str(i) for i in examples] if isinstance(examples, list) else []
    rows = spans.filter(pl.col("trace_id").is_in(ids) & (pl.col("service") == finding.service))
    return [v for v in rows["service_version"].unique().to_list() if v]


def _versions_after(spans: pl.DataFrame, record: FindingRecord) -> list[str]:
    rows = spans.filter((pl.col("service") == record.service) & (pl.col("start_ns") > record.last_seen_ns))
    return [v for v in rows["service_version"].unique().to_list() if v]


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def _bounds(window: Window) -> dict[str, datetime]:
    return {"start": _datetime(window.start_ns), "end": _datetime(window.end_ns)}


def _datetime(ns: int) -> datetime:
    """A bound for the window query; exact to the microsecond (Python's resolution), and the same
    value for the end of one window and the start of the next, so none falls between them."""
    return _EPOCH + timedelta(microseconds=ns // 1000)
