"""The finding: what a detector reports, in the shape the store, the API and the advisor share.

A finding is a claim about a pattern in traffic, not about one trace, so its evidence is aggregated
(counts, shares, percentiles) and points at a few example traces a person can open. The fingerprint
identifies the problem across runs and machines (see :mod:`tsdev.analysis.fingerprint`), which is
what lets a job upsert findings instead of duplicating them.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

FindingKind = Literal["n_plus_one", "flaky_step", "parallelizable", "cacheable", "seasonality"]
"""Kind names are part of the API (filters, stored rows, CLI output). ``seasonality`` findings come
from the forecasting job, the other four from the detectors."""

Severity = Literal["low", "medium", "high"]

KINDS: tuple[FindingKind, ...] = ("n_plus_one", "flaky_step", "parallelizable", "cacheable")
"""The detectors' kinds: the ones the advisor can turn into a change."""


class Finding(BaseModel):
    """One detected problem of one service.

    ``evidence`` keys shared by every kind: ``traces_affected``, ``example_trace_ids``; the rest is
    kind-specific and documented on each detector. ``estimated_saving_ms_per_hour`` is the time the
    suggested change would save per hour of the observed traffic; the CLI ranks findings by it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: FindingKind
    service: str
    fingerprint: str
    severity: Severity
    title: str
    parent_operation: str
    operations: tuple[str, ...]
    evidence: dict[str, JsonValue] = Field(default_factory=dict)
    estimated_saving_ms_per_hour: float = Field(ge=0.0)
    suggested_change: str

    def to_json(self) -> str:
        """Compact JSON with sorted keys, so equal findings serialize to equal text."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Finding:
        return cls.model_validate_json(text)


def severity_for(saving_ms_per_trace: float, share_of_traces: float) -> Severity:
    """Severity from what one affected request loses and how many requests are affected.

    A pattern that costs little per request but hits every request matters as much as a rare,
    expensive one, so the two are multiplied: ``expected ms lost per request`` of at least 100 is
    high, at least 20 medium.
    """
    expected = saving_ms_per_trace * share_of_traces
    if expected >= 100.0:
        return "high"
    if expected >= 20.0:
        return "medium"
    return "low"
