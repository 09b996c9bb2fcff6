"""Findings, status changes and the summary of an analysis pass."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, JsonValue

from tsdev.analysis.jobs import AnalysisSummary, FindingRecord, SettableStatus
from tsdev.core.query import format_time
from tsdev.server.api.schemas.common import TIME_HELP

TRACE_PATH = "/api/v1/traces/{trace_id}"


class FindingSummary(BaseModel):
    id: str = Field(description="The finding's fingerprint: stable across runs and machines")
    kind: str = Field(description="n_plus_one, flaky_step, parallelizable or cacheable")
    service: str
    status: str = Field(description="open, acknowledged, ignored, resolved or regressed")
    severity: str = Field(description="low, medium or high")
    title: str
    parent_operation: str
    operations: list[str] = Field(description="The normalized operations the pattern is made of")
    estimated_saving_ms_per_hour: float = Field(description="Time the fix saves per hour of traffic")
    traces_affected: int = Field(description="Traces that showed the pattern, over every window seen")
    times_seen: int = Field(description="Analysis windows that found it")
    first_seen: str = Field(description="RFC 3339")
    last_seen: str = Field(description="RFC 3339")
    service_versions: list[str] = Field(description="service.version values that showed the pattern")

    @classmethod
    def of(cls, record: FindingRecord) -> FindingSummary:
        return cls.model_validate(_summary_fields(record))


class ExampleTrace(BaseModel):
    trace_id: str
    url: str = Field(description="The whole trace in the API")


class FindingDetail(FindingSummary):
    evidence: dict[str, JsonValue] = Field(description="Counts, durations and examples; see the kind")
    suggested_change: str
    example_traces: list[ExampleTrace]
    status_changed_at: str = Field(description="RFC 3339")
    resolved_version: str = Field(description="The version that no longer showed it, once resolved")
    pr_number: int | None = None
    pr_url: str = ""
    pr_state: str = ""

    @classmethod
    def of(cls, record: FindingRecord) -> FindingDetail:
        return cls.model_validate({
            **_summary_fields(record), "evidence": record.evidence,
            "suggested_change": record.suggested_change,
            "example_traces": [{"trace_id": t, "url": TRACE_PATH.format(trace_id=t)}
                               for t in record.example_trace_ids],
            "status_changed_at": format_time(record.status_changed_ns),
            "resolved_version": record.resolved_version, "pr_number": record.pr_number,
            "pr_url": record.pr_url, "pr_state": record.pr_state,
        })  # fmt: skip


class FindingList(BaseModel):
    findings: list[FindingSummary] = Field(description="Largest estimated saving first")


class StatusChange(BaseModel):
    status: SettableStatus = Field(description="resolved and regressed are set by the analysis only")


class AnalyzeRequest(BaseModel):
    since: str | None = Field(default=None, description="How far back from now: 15m, 1h, 24h")
    start: str | None = Field(default=None, description=f"{TIME_HELP}; instead of since")
    end: str | None = Field(default=None, description=f"{TIME_HELP}; default now")


class AnalyzeResult(BaseModel):
    start: str = Field(description="RFC 3339; the window analysed is [start, end)")
    end: str
    spans: int
    traces: int
    new: list[str] = Field(description="Ids of findings seen for the first time")
    updated: list[str]
    regressed: list[str]
    resolved: list[str]
    findings: list[FindingSummary] = Field(description="Everything this pass detected, largest saving first")
    duration_s: float

    @classmethod
    def of(cls, summary: AnalysisSummary) -> AnalyzeResult:
        found = sorted(summary.findings, key=lambda r: (-r.estimated_saving_ms_per_hour, r.fingerprint))
        return cls(
            start=format_time(summary.window.start_ns), end=format_time(summary.window.end_ns),
            spans=summary.spans, traces=summary.traces, new=summary.new, updated=summary.updated,
            regressed=summary.regressed, resolved=summary.resolved,
            findings=[FindingSummary.of(r) for r in found], duration_s=round(summary.duration_s, 3),
        )  # fmt: skip


def _summary_fields(record: FindingRecord) -> dict[str, Any]:
    return {
        "id": record.fingerprint, "kind": record.kind, "service": record.service, "status": record.status,
        "severity": record.severity, "title": record.title, "parent_operation": record.parent_operation,
        "operations": list(record.operations),
        "estimated_saving_ms_per_hour": record.estimated_saving_ms_per_hour,
        "traces_affected": record.traces_affected, "times_seen": record.times_seen,
        "first_seen": format_time(record.first_seen_ns), "last_seen": format_time(record.last_seen_ns),
        "service_versions": list(record.service_versions),
    }  # fmt: skip
