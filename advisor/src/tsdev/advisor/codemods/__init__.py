"""Deterministic patches for Python, used without a model or when the model's patch is refused.

Each codemod is idempotent (a second run changes nothing) and touches one function. N+1 has no
generic safe rewrite (batching needs an API that takes a list), so it gets an explanation, not a patch.
"""

from __future__ import annotations

from collections.abc import Sequence

from tsdev.advisor.codemods.cache import CachePolicy, add_cache
from tsdev.advisor.codemods.gather import gather_awaits
from tsdev.advisor.codemods.retry import RetryPolicy, add_retry
from tsdev.advisor.dependencies import Stack, declare
from tsdev.advisor.locate import Location
from tsdev.advisor.patch import Edit, Patch
from tsdev.advisor.source import RepoSource
from tsdev.analysis.findings import Finding

__all__ = ["NoCodemod", "codemod_patch"]


class NoCodemod(Exception):
    """No safe deterministic patch; the message says why and goes into the report."""


def codemod_patch(finding: Finding, locations: Sequence[Location], source: RepoSource, stack: Stack) -> Patch:
    if finding.kind == "n_plus_one":
        raise NoCodemod(
            "an N+1 loop needs a batched query or eager loading, which no generic rewrite can do safely"
        )
    if finding.kind == "flaky_step" and finding.evidence.get("idempotent") is False:
        raise NoCodemod(
            "the step writes; retrying it could apply the write twice, so it needs an idempotency key first"
        )
    python = [loc for loc in locations if loc.path.endswith(".py")]
    if not python:
        raise NoCodemod("the code of this finding was not found in the repository's Python files")
    reasons = []
    for location in python:
        try:
            return _one(finding, location, source, stack)
        except NoCodemod as exc:
            reasons.append(f"{location.path}:{location.function}: {exc}")
    raise NoCodemod("; ".join(reasons))


def _one(finding: Finding, location: Location, source: RepoSource, stack: Stack) -> Patch:
    text = source.read(location.path)
    if text is None:
        raise NoCodemod("unreadable")
    lines = (location.start_line, location.end_line)
    extra: list[Edit] = []
    dependency_note = ""
    where = f"`{location.function}` in `{location.path}`"
    if finding.kind == "flaky_step":
        policy = RetryPolicy.from_evidence(dict(finding.evidence))
        new_text, matched, already = add_retry(text, location.function, lines, policy)
        if already:
            raise NoCodemod("already has a retry decorator")
        requirement = "tenacity>=8.0"
        title = f"Retry {finding.operations[0]} with backoff and jitter"
        rationale = (
            f"{where} fails transiently ({_pct(finding.evidence.get('error_rate'))} of runs). "
            f"A tenacity retry of up to {policy.attempts} attempts with exponential backoff and full jitter "
            f"(first wait up to {policy.initial_backoff_s:g} s, at most {policy.max_backoff_s:g} s) turns "
            "most of those failures into successes."
        )
        risks = (
            "A retried call runs again: it must be idempotent (the traces show no writes in it). "
            "Retries add latency to failing requests, bounded by the attempts and the backoff cap."
        )
        if not policy.exception_types:
            risks += " Every exception is retried, including non-transient ones; narrow `retry=` if needed."
    elif finding.kind == "cacheable":
        cache = CachePolicy.from_evidence(dict(finding.evidence))
        new_text, matched, requirement = add_cache(text, location.function, lines, cache)
        if matched and new_text == text:
            raise NoCodemod("already cached")
        ttl = f" with a TTL of {cache.ttl_s:g} s" if cache.ttl_s else ""
        title = f"Cache {finding.operations[0]}{ttl}"
        rationale = (
            f"{where} repeats the same read ({finding.evidence.get('reads', '?')} reads, "
            f"{finding.evidence.get('distinct_reads', '?')} distinct). Caching its result{ttl} "
            "serves repeats without the round trip."
        )
        risks = (
            "Cached results can be stale up to the TTL after a write; arguments must be hashable; the "
            f"cache holds at most {cache.maxsize} entries per process and is not shared between processes."
        )
    elif finding.kind == "parallelizable":
        if not location.is_async:
            raise NoCodemod("not an async function; parallel threads need a manual change")
        new_text, matched, runs = gather_awaits(text, location.function, lines)
        if matched and not runs:
            raise NoCodemod("no adjacent independent awaits")
        requirement = ""
        title = f"Run the independent calls of {finding.parent_operation} concurrently"
        rationale = (
            f"{where} awaits {len(finding.operations)} calls one after another that do not use each other's "
            "results. `asyncio.gather` starts them together, so the step takes as long as the slowest call."
        )
        risks = (
            "The calls now overlap: shared state they mutate (one DB session, a non-thread-safe client) must "
            "allow concurrent use. The first exception still propagates; the other calls keep running "
            "until done."
        )
    else:  # pragma: no cover - kinds are a closed set
        raise NoCodemod(f"no codemod for {finding.kind}")
    if not matched:
        raise NoCodemod("function not found")
    if new_text == text:
        raise NoCodemod("nothing to change")
    if requirement:
        declared = declare(requirement, source, stack)
        if declared is not None:
            extra.append(declared)
        elif not stack.has(requirement.split(">", 1)[0]):
            dependency_note = f" The change needs `{requirement}`: declare it in the project's dependencies."
    return Patch(
        title=title,
        rationale=rationale,
        risks=risks + dependency_note,
        verification="Run the test suite; then watch the finding's operation in tsdev: "
        + _watch(finding.kind),
        edits=(Edit(path=location.path, old_text=text, new_text=new_text), *extra),
        engine="codemod",
    )


def _watch(kind: str) -> str:
    return {
        "flaky_step": "its error rate should fall to about the expected success the policy aims for.",
        "cacheable": "its call count should fall by about the reported hit rate.",
        "parallelizable": "the parent's duration should drop to about the slowest call's.",
    }.get(kind, "the finding should stop appearing.")


def _pct(value: object) -> str:
    return f"{float(value):.1%}" if isinstance(value, int | float) else "some"
