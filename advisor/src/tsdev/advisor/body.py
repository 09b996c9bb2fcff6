"""Pull request title, branch, body and commit message: stable per finding.

Stable because deduplication depends on it: the branch name and the hidden marker are derived from
the fingerprint alone, so the same finding always maps to the same branch and PR, whatever the patch.
"""

from __future__ import annotations

import re

from tsdev.advisor.locate import Location
from tsdev.advisor.patch import ValidatedPatch
from tsdev.analysis.findings import Finding

BRANCH_PREFIX = "tsdev/advisor/"
MARKER_PREFIX = "<!-- tsdev-finding: "
COMMIT_TRAILER = "Tsdev-Finding"
KIND_LABELS = {
    "flaky_step": "reliability",
    "cacheable": "performance",
    "parallelizable": "performance",
    "n_plus_one": "performance",
}
_KIND_NAMES = {
    "flaky_step": "flaky step",
    "cacheable": "cacheable read",
    "parallelizable": "sequential independent calls",
    "n_plus_one": "N+1 loop",
}


def fingerprint_prefix(fingerprint: str) -> str:
    return re.sub(r"[^0-9a-f]", "", fingerprint.split(":", 1)[-1])[:12]


def branch_name(finding: Finding) -> str:
    return f"{BRANCH_PREFIX}{finding.kind}/{fingerprint_prefix(finding.fingerprint)}"


def marker(fingerprint: str) -> str:
    return f"{MARKER_PREFIX}{fingerprint} -->"


def pr_title(finding: Finding) -> str:
    """Stable per finding (the patch's own title can change between runs; this cannot)."""
    operation = finding.operations[0] if finding.operations else finding.parent_operation
    verb = {
        "flaky_step": "Retry",
        "cacheable": "Cache",
        "parallelizable": "Parallelize calls in",
        "n_plus_one": "Batch",
    }[finding.kind]
    target = finding.parent_operation if finding.kind == "parallelizable" else operation
    kind = "fix" if finding.kind == "flaky_step" else "perf"
    return f"{kind}({finding.service}): {verb} {target}"[:120]


def labels(finding: Finding, configured: tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys([*configured, KIND_LABELS[finding.kind]]))


def commit_message(finding: Finding, validated: ValidatedPatch) -> str:
    return (
        f"{validated.patch.title}\n\n{validated.patch.rationale}\n\n{COMMIT_TRAILER}: {finding.fingerprint}\n"
    )


def evidence_table(finding: Finding, tsdev_url: str) -> str:
    e = finding.evidence
    rows: list[tuple[str, str]] = [("service", finding.service), ("severity", finding.severity)]
    for key, label in (
        ("traces_affected", "traces affected"),
        ("runs", "runs"),
        ("failures", "failures"),
        ("error_rate", "error rate"),
        ("reads", "reads"),
        ("distinct_reads", "distinct reads"),
        ("occurrences", "occurrences"),
        ("repeats_per_trace_p50", "repeats per trace p50"),
        ("saving_ms_p50", "saving per request p50 (ms)"),
        ("saving_ms_p95", "saving per request p95 (ms)"),
        ("sequential_ms_p50", "sequential time p50 (ms)"),
        ("repeat_time_ms_p50", "time in the loop p50 (ms)"),
        ("repeat_time_ms_p95", "time in the loop p95 (ms)"),
        ("failure_latency_ms_p50", "failure latency p50 (ms)"),
        ("failure_latency_ms_p95", "failure latency p95 (ms)"),
        ("read_latency_ms_p50", "read latency p50 (ms)"),
        ("recommended_ttl_s", "recommended TTL (s)"),
    ):
        if key in e and e[key] is not None:
            rows.append((label, f"{e[key]}"))
    rows.append(("estimated saving", f"{finding.estimated_saving_ms_per_hour:,.0f} ms per hour"))
    base = tsdev_url.rstrip("/")
    traces = e.get("example_trace_ids") or []
    if isinstance(traces, list) and traces:
        links = ", ".join(f"[`{str(t)[:8]}`]({base}/api/v1/traces/{t})" for t in traces[:5])
        rows.append(("example traces", links))
    lines = ["| | |", "| --- | --- |"] + [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(lines)


def pr_body(
    finding: Finding,
    validated: ValidatedPatch,
    locations: list[Location],
    tsdev_url: str,
    verification_output: str = "",
) -> str:
    patch = validated.patch
    where = "\n".join(f"- `{loc.path}`: `{loc.function}` ({loc.reason})" for loc in locations[:3])
    engine = f"a model ({patch.model})" if patch.engine == "model" else "a deterministic codemod"
    changed = ", ".join(f"`{p}`" for p in sorted(validated.files))
    parts = [
        "## What was found",
        f"tsdev found a **{_KIND_NAMES[finding.kind]}** in `{finding.service}`: {finding.title}.",
        "",
        where,
        "",
        "## Evidence",
        evidence_table(finding, tsdev_url),
        "",
        "## The change",
        patch.rationale,
        "",
        f"Files: {changed} ({validated.diff_lines} changed lines), written by {engine}.",
        "",
        "## Expected impact",
        f"{finding.suggested_change} Estimated saving: "
        f"{finding.estimated_saving_ms_per_hour:,.0f} ms per hour "
        "of the observed traffic.",
        "",
        "## Risks and rollback",
        patch.risks,
        "",
        "Rollback: revert this pull request; nothing else depends on it.",
        "",
        "## How to verify",
        patch.verification,
    ]
    if verification_output:
        parts += [
            "",
            "<details><summary>Local verification output</summary>",
            "",
            "```",
            verification_output[-2000:],
            "```",
            "</details>",
        ]
    parts += [
        "",
        "---",
        "Opened by tsdev advisor. Closing this PR without merging stops it being proposed again "
        "unless the finding regresses.",
        "",
        marker(finding.fingerprint),
        "",
    ]
    return "\n".join(parts)


def report(finding: Finding, locations: list[Location], reason: str, tsdev_url: str) -> str:
    """What is written instead of a PR when no safe patch exists (N+1 without a model, for example)."""
    where = (
        "\n".join(f"- `{loc.path}`: `{loc.function}` ({loc.reason})" for loc in locations[:3])
        or "- not located"
    )
    return "\n".join(
        [
            f"## {finding.title}",
            "",
            f"tsdev found a **{_KIND_NAMES[finding.kind]}** in `{finding.service}` "
            f"but proposes no patch: {reason}.",
            "",
            "Where:",
            where,
            "",
            "## Evidence",
            evidence_table(finding, tsdev_url),
            "",
            "## Suggested fix",
            finding.suggested_change,
            "",
            marker(finding.fingerprint),
            "",
        ]
    )
