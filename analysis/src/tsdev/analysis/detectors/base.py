"""The detector lifecycle and the small helpers every detector's aggregation uses.

A detector is configured once with a frozen settings object, then ``run`` on any number of span
frames: it annotates the frame (shared derived columns, computed once per frame), calls the
detector's ``detect`` and returns findings in a deterministic order (largest estimated saving
first), so equal inputs give equal outputs. Detectors never read the environment or the store.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar, Generic, TypeVar

import polars as pl

from tsdev.analysis.findings import Finding, FindingKind
from tsdev.analysis.operations import annotate

SettingsT = TypeVar("SettingsT")

NS_PER_MS = 1_000_000
MIN_WINDOW_S = 60.0
"""Shortest window used to scale savings to an hour, so a burst of a few traces is not
extrapolated as if it lasted a few milliseconds."""

EXAMPLE_TRACES = 5


class Detector(ABC, Generic[SettingsT]):
    """Span frame in, findings out; subclasses set ``kind`` and implement ``detect``."""

    kind: ClassVar[FindingKind]

    def __init__(self, settings: SettingsT | None = None) -> None:
        self.settings: SettingsT = settings if settings is not None else self.default_settings()

    @classmethod
    @abstractmethod
    def default_settings(cls) -> SettingsT: ...

    def run(self, spans: pl.DataFrame, *, window_s: float | None = None) -> list[Finding]:
        """Findings in ``spans``; ``window_s`` is the length of the window they were read from
        (default: the time the spans cover), used to express savings per hour of traffic."""
        if spans.is_empty():
            return []
        frame = annotate(spans)
        window = window_s if window_s is not None else observed_window_s(frame)
        findings = self.detect(frame, max(window, MIN_WINDOW_S))
        return sorted(findings, key=lambda f: (-f.estimated_saving_ms_per_hour, f.fingerprint))

    @abstractmethod
    def detect(self, spans: pl.DataFrame, window_s: float) -> list[Finding]:
        """Findings in an annotated frame (see :mod:`tsdev.analysis.operations`)."""


def observed_window_s(spans: pl.DataFrame) -> float:
    first = spans["start_ns"].min()
    last = spans["end_ns"].max()
    if not isinstance(first, int) or not isinstance(last, int):
        return MIN_WINDOW_S
    return (last - first) / 1e9


def per_hour(total_ms: float, window_s: float) -> float:
    """A total over the window as a rate per hour, rounded for stable output."""
    return round(total_ms * 3600.0 / window_s, 1)


def ms(value: float | None) -> float:
    """Nanoseconds (or a float of them) as milliseconds rounded to 0.1."""
    return round((value or 0.0) / NS_PER_MS, 1)


def examples(trace_ids: Sequence[str], limit: int = EXAMPLE_TRACES) -> list[str]:
    """The first distinct ids of a list already sorted by importance."""
    seen: list[str] = []
    for trace_id in trace_ids:
        if trace_id not in seen:
            seen.append(trace_id)
            if len(seen) == limit:
                break
    return seen


def traces_per_operation(spans: pl.DataFrame, names: pl.Series) -> pl.DataFrame:
    """Distinct traces that ran each (service, span name) of ``names``: the denominator of "share of
    traces". Only the few names a detector reports on are counted, by the annotated trace rank,
    since counting every name of a million spans costs more than the rest of a detector."""
    names = names.cast(pl.String)
    wanted = spans.select("trace_index", "service", "name").filter(pl.col("name").is_in(names.implode()))
    totals = wanted.group_by("service", "name").agg(pl.col("trace_index").n_unique().alias("traces_total"))
    return totals.cast({pl.Categorical: pl.String})


def top_value(values: pl.Expr) -> pl.Expr:
    """The most frequent value (ties broken by value, so the choice is deterministic)."""
    return values.drop_nulls().mode().sort().first()
