"""What the advisor decided, written back to the store: the PR record and the finding's PR fields.

Kept apart from :mod:`tsdev.advisor.service` so the advisor works without a store (the CLI on a
laptop, the bench); the API and the CLI's server path call :func:`record` after :func:`advise`, the
scheduled pass (:mod:`tsdev.advisor.schedule`) also :func:`record_pr_state` when a PR is merged or
closed and when its finding is resolved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tsdev.advisor.service import AdviceResult
from tsdev.analysis.findings import Finding

if TYPE_CHECKING:
    from tsdev.analysis.jobs.records import FindingRecord
    from tsdev.core.store import Store

_PUBLISHED = ("created", "updated", "unchanged", "commented")


def finding_of(record: FindingRecord) -> Finding:
    return Finding(
        kind=record.kind,  # type: ignore[arg-type]
        service=record.service,
        fingerprint=record.fingerprint,
        severity=record.severity,  # type: ignore[arg-type]
        title=record.title,
        parent_operation=record.parent_operation,
        operations=record.operations,
        evidence=record.evidence,
        estimated_saving_ms_per_hour=record.estimated_saving_ms_per_hour,
        suggested_change=record.suggested_change,
    )


def record(store: Store, repo: str, finding: Finding, result: AdviceResult) -> None:
    _insert(store, repo, finding.fingerprint, finding.kind, result.status, result)
    if result.pr_number is not None and result.status in (*_PUBLISHED, "skipped"):
        _set_pr(store, finding.fingerprint, result.pr_number, result.pr_url, result.pr_state)


def record_pr_state(
    store: Store, repo: str, stored: FindingRecord, status: str, pr_state: str, reason: str
) -> None:
    """What became of a recorded PR: ``merged`` or ``closed`` as read back from GitHub, or
    ``resolved`` once the PR is merged and the analysis resolved the finding. The finding keeps the
    PR's state (``merged``); its own status says ``resolved``."""
    result = AdviceResult(
        stored.fingerprint,
        "unchanged",
        reason=reason,
        pr_number=stored.pr_number,
        pr_url=stored.pr_url,
        pr_state=pr_state,
    )
    _insert(store, repo, stored.fingerprint, stored.kind, status, result)
    if stored.pr_number is not None:
        _set_pr(store, stored.fingerprint, stored.pr_number, stored.pr_url, pr_state)


def _set_pr(store: Store, fingerprint: str, number: int, url: str, state: str) -> None:
    from tsdev.analysis.jobs import repository

    with repository.WRITE_LOCK:
        stored = repository.get(store, fingerprint)
        if stored is not None and (stored.pr_number, stored.pr_url, stored.pr_state) != (number, url, state):
            repository.write(store, [stored.replace(pr_number=number, pr_url=url, pr_state=state)])


def _insert(store: Store, repo: str, fingerprint: str, kind: str, status: str, result: AdviceResult) -> None:
    import pyarrow as pa

    from tsdev.core.store.ddl_advisor import ADVISOR_PULL_REQUESTS

    diff_lines = sum(1 for x in result.diff.splitlines() if x[:1] in "+-" and x[:3] not in ("+++", "---"))
    row = {
        "Repo": [repo],
        "Fingerprint": [fingerprint],
        "Kind": [kind],
        "Status": [status],
        "Reason": [result.reason[:2000]],
        "Engine": [result.engine],
        "Branch": [result.branch],
        "Title": [result.title],
        "PrNumber": pa.array([result.pr_number], type=pa.uint64()),
        "PrUrl": [result.pr_url],
        "PrState": [result.pr_state],
        "HeadSha": [result.head_sha],
        "DiffLines": pa.array([diff_lines], type=pa.uint32()),
        "InputTokens": pa.array([result.usage.get("input_tokens", 0)], type=pa.uint64()),
        "OutputTokens": pa.array([result.usage.get("output_tokens", 0)], type=pa.uint64()),
        "CacheReadTokens": pa.array([result.usage.get("cache_read_input_tokens", 0)], type=pa.uint64()),
    }
    store.insert_arrow(ADVISOR_PULL_REQUESTS, pa.table(row))
