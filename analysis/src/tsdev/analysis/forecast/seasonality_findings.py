"""Seasonality results as findings of kind ``seasonality``, through the findings table.

A cycle is a fact about traffic, not a defect, so the record is only opened, refreshed and counted:
never resolved by the detectors' version rules. The fingerprint names the service and its significant
cycles (see ``SeasonalityResult.finding_fields``), so each refit refreshes the same finding and a
newly appearing cycle opens a new one. A status a person set (ignored, acknowledged) is kept.
"""

from __future__ import annotations

import time
from typing import cast

from pydantic import JsonValue

from tsdev.analysis.jobs import repository
from tsdev.analysis.jobs.records import FindingRecord
from tsdev.analysis.seasonality import SeasonalityResult
from tsdev.core.store import Store


def emit_seasonality_finding(
    store: Store, service: str, result: SeasonalityResult, history_start_ns: int, history_end_ns: int
) -> FindingRecord | None:
    """Upsert the finding of ``service``'s cycles; ``None`` when no cycle is significant."""
    if not result.significant:
        return None
    fields = result.finding_fields(service)
    fingerprint = str(fields["fingerprint"])
    evidence = cast(dict[str, JsonValue], fields["evidence"])
    now = time.time_ns()
    with repository.WRITE_LOCK:
        existing = repository.get(store, fingerprint)
        if existing is None:
            record = FindingRecord(
                fingerprint=fingerprint, kind=str(fields["kind"]), service=service, status="open",
                severity=str(fields["severity"]), title=str(fields["title"]), parent_operation="",
                operations=(), evidence=evidence, estimated_saving_ms_per_hour=0.0,
                suggested_change=str(fields["suggested_change"]), first_seen_ns=history_start_ns,
                last_seen_ns=history_end_ns, times_seen=1, traces_affected=0, service_versions=(),
                counted_from_ns=history_start_ns, counted_until_ns=history_end_ns, status_changed_ns=now,
            )  # fmt: skip
        else:
            record = existing.replace(
                title=str(fields["title"]),
                evidence=evidence,
                last_seen_ns=max(existing.last_seen_ns, history_end_ns),
                counted_until_ns=max(existing.counted_until_ns, history_end_ns),
                times_seen=existing.times_seen + 1,
            )
        [stored] = repository.write(store, [record])
    return stored
