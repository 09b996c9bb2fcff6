"""The stored finding and the rules that move it: seen again, resolved, regressed.

These are pure functions over :class:`FindingRecord` so the rules can be tested without a store and
read in one place. Status belongs partly to people (open, acknowledged, ignored, set through the API)
and partly to the analysis (resolved when a new ``service.version`` runs without the pattern,
regressed when it comes back after that); the analysis never overrides a person's "ignored".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

from pydantic import JsonValue

from tsdev.analysis.findings import Finding

Status = Literal["open", "acknowledged", "ignored", "resolved", "regressed"]
STATUSES: tuple[Status, ...] = get_args(Status)

SettableStatus = Literal["open", "acknowledged", "ignored"]
"""What a person may set; resolved and regressed are the analysis' verdicts."""

ACTIVE: frozenset[Status] = frozenset({"open", "acknowledged", "regressed"})
"""Statuses the analysis may move to resolved (an ignored finding stays ignored)."""


@dataclass(frozen=True)
class Window:
    """A half-open span-time window ``[start_ns, end_ns)`` that was analysed."""

    start_ns: int
    end_ns: int

    @property
    def seconds(self) -> float:
        return (self.end_ns - self.start_ns) / 1e9


@dataclass(frozen=True)
class FindingRecord:
    """One row of ``tsdev_findings``: a finding plus what the store remembers about it."""

    fingerprint: str
    kind: str
    service: str
    status: Status
    severity: str
    title: str
    parent_operation: str
    operations: tuple[str, ...]
    evidence: dict[str, JsonValue]
    estimated_saving_ms_per_hour: float
    suggested_change: str
    first_seen_ns: int
    last_seen_ns: int
    times_seen: int
    traces_affected: int
    service_versions: tuple[str, ...]
    counted_from_ns: int
    counted_until_ns: int
    status_changed_ns: int
    resolved_version: str = ""
    pr_number: int | None = None
    pr_url: str = ""
    pr_state: str = ""
    version: int = 0

    def replace(self, **changes: object) -> FindingRecord:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @property
    def example_trace_ids(self) -> list[str]:
        ids = self.evidence.get("example_trace_ids")
        return [str(i) for i in ids] if isinstance(ids, list) else []


def traces_affected(finding: Finding) -> int:
    """Traces showing the pattern in one window. Every kind reports ``traces_affected`` except
    ``flaky_step``, whose affected traces are its failed runs."""
    for key in ("traces_affected", "failures"):
        value = finding.evidence.get(key)
        if isinstance(value, int | float):
            return int(value)
    return 0


def observe(
    existing: FindingRecord | None,
    finding: Finding,
    window: Window,
    seen: tuple[int, int],
    versions: Iterable[str],
    now_ns: int,
) -> FindingRecord:
    """The record after ``finding`` was detected in ``window``.

    ``seen`` is the span time of the window's traffic (first start, last end); ``versions`` the
    service versions that showed the pattern. Counts add only for traffic not counted before: a window
    disjoint from ``[counted_from, counted_until)`` adds, an overlapping one (a re-run, or an ad-hoc
    pass over hours the schedule already covered) keeps the larger count, so running the same window
    twice changes nothing. The latest window's evidence wins; an older window (a backfill) only
    widens the counts and times.
    """
    affected = traces_affected(finding)
    if existing is None:
        return FindingRecord(
            fingerprint=finding.fingerprint, kind=finding.kind, service=finding.service, status="open",
            severity=finding.severity, title=finding.title, parent_operation=finding.parent_operation,
            operations=finding.operations, evidence=dict(finding.evidence),
            estimated_saving_ms_per_hour=finding.estimated_saving_ms_per_hour,
            suggested_change=finding.suggested_change, first_seen_ns=seen[0], last_seen_ns=seen[1],
            times_seen=1, traces_affected=affected, service_versions=tuple(sorted(set(versions))),
            counted_from_ns=window.start_ns, counted_until_ns=window.end_ns, status_changed_ns=now_ns,
        )  # fmt: skip
    if window.start_ns >= existing.counted_until_ns or window.end_ns <= existing.counted_from_ns:
        times_seen = existing.times_seen + 1
        total = existing.traces_affected + affected
    else:
        times_seen = existing.times_seen
        total = max(existing.traces_affected, affected)
    record = existing.replace(
        first_seen_ns=min(existing.first_seen_ns, seen[0]),
        last_seen_ns=max(existing.last_seen_ns, seen[1]),
        times_seen=times_seen,
        traces_affected=total,
        service_versions=tuple(sorted(set(existing.service_versions) | set(versions))),
        counted_from_ns=min(existing.counted_from_ns, window.start_ns),
        counted_until_ns=max(existing.counted_until_ns, window.end_ns),
    )
    if window.end_ns >= existing.counted_until_ns:
        record = record.replace(
            severity=finding.severity, title=finding.title, evidence=dict(finding.evidence),
            estimated_saving_ms_per_hour=finding.estimated_saving_ms_per_hour,
            suggested_change=finding.suggested_change,
        )  # fmt: skip
    if existing.status == "resolved":
        record = record.replace(status="regressed", status_changed_ns=now_ns)
    return record


def resolve_if_gone(
    record: FindingRecord, versions_after_last_seen: Iterable[str], now_ns: int
) -> FindingRecord | None:
    """The record resolved, if its service ran a version that never showed the pattern after it was
    last seen, and the pattern was not detected in that traffic; ``None`` when nothing changes.

    Only traffic newer than the last sighting counts, so re-analysing an old window of an older
    version cannot resolve a finding that a later deploy introduced."""
    if record.status not in ACTIVE:
        return None
    new = sorted(v for v in set(versions_after_last_seen) if v and v not in record.service_versions)
    if not new:
        return None
    return record.replace(status="resolved", resolved_version=new[-1], status_changed_ns=now_ns)


def set_status(record: FindingRecord, status: SettableStatus, now_ns: int) -> FindingRecord:
    """A person's decision; setting the current status again keeps its time."""
    if record.status == status:
        return record
    return record.replace(status=status, status_changed_ns=now_ns)
