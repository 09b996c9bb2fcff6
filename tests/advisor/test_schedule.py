"""The scheduled advisor against a real store and the local GitHub: which findings get a PR, and how a
merged PR and a resolved finding end up recorded."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from github import Github

from tests.advisor.github_server import FakeGitHub
from tests.advisor.support import monorepo, sample_finding
from tests.support.server import InProcessServer
from tsdev.advisor import AdvisorSettings
from tsdev.advisor.github_pr import connect
from tsdev.advisor.schedule import refresh_pull_requests, run_after_analysis
from tsdev.analysis.jobs import Window, repository
from tsdev.analysis.jobs.records import FindingRecord, observe, resolve_if_gone
from tsdev.core.settings import Settings
from tsdev.core.store import Store
from tsdev.core.store.ddl_advisor import ADVISOR_PULL_REQUESTS

REPO = "acme/shop"
HOUR_NS = 3600 * 10**9


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[FakeGitHub]:
    origin = monorepo(tmp_path / "origin", ["profile_async", "rates_async", "catalog_async"], "")
    server = FakeGitHub(origin).start()
    yield server
    server.stop()


@pytest.fixture
def github(hub: FakeGitHub) -> Github:
    return connect(AdvisorSettings.from_env({}, github_token="t", github_api_url=hub.base), for_tests=True)


def schedule(threshold: float = 10_000.0) -> Settings:
    return Settings(advisor_schedule_repo=REPO, advisor_min_saving_ms_per_hour=threshold)


def stored(store: Store, sample: str, **changes: object) -> FindingRecord:
    now = time.time_ns()
    window = Window(now - HOUR_NS, now)
    record = observe(None, sample_finding(sample), window, (window.start_ns, now), ["1.0"], now)
    return repository.write(store, [record.replace(**changes)])[0]


def pr_records(store: Store) -> list[tuple[str, str, str, str]]:
    return [
        (fp[:6], status, state, reason)
        for fp, status, state, reason in store.query_rows(
            f"SELECT Fingerprint, Status, PrState, Reason FROM {store.table(ADVISOR_PULL_REQUESTS)} "
            "ORDER BY CreatedAt, Status"
        )
    ]


def test_the_scheduled_pass_opens_a_pr_for_a_high_impact_finding_only(
    fresh_store: Store, hub: FakeGitHub, github: Github
) -> None:
    high = stored(fresh_store, "profile_async")  # 32 s saved per hour
    low = stored(fresh_store, "rates_async")  # 98 ms per hour
    has_pr = stored(fresh_store, "catalog_async", pr_number=7, pr_url="https://example/7", pr_state="open")
    done = run_after_analysis(fresh_store, schedule(), github=github)
    assert done is not None
    assert [(r.fingerprint, r.status) for r in done.advised] == [(high.fingerprint, "created")]
    assert [p["head"] for p in hub.pulls] == ["tsdev/advisor/parallelizable/0123456789ab"]
    after = repository.get(fresh_store, high.fingerprint)
    assert after is not None
    assert (after.pr_number, after.pr_state) == (1, "open")
    assert [r[:3] for r in pr_records(fresh_store)] == [(high.fingerprint[:6], "created", "open")]
    assert repository.get(fresh_store, low.fingerprint) == low
    assert repository.get(fresh_store, has_pr.fingerprint) == has_pr
    # The next pass finds nothing new to propose: the finding has its PR.
    again = run_after_analysis(fresh_store, schedule(), github=github)
    assert again is not None
    assert again.advised == []
    assert len(hub.pulls) == 1


def test_the_scheduled_mode_is_off_without_a_repository_and_never_raises(
    fresh_store: Store, hub: FakeGitHub, github: Github
) -> None:
    stored(fresh_store, "profile_async")
    assert run_after_analysis(fresh_store, Settings(), github=github) is None
    assert hub.pulls == []
    elsewhere = Settings(advisor_schedule_repo="acme/other", advisor_min_saving_ms_per_hour=0)
    assert run_after_analysis(fresh_store, elsewhere, github=github) is None  # 404, logged
    assert hub.pulls == []


def test_a_merged_pr_and_a_resolved_finding_leave_a_resolved_pr_record(
    server: InProcessServer, hub: FakeGitHub, github: Github
) -> None:
    store = server.store
    finding = stored(store, "profile_async")
    run_after_analysis(store, schedule(), github=github)
    assert refresh_pull_requests(store, github=github) == {}  # still open
    hub.close_pull(1, merged=True)
    assert refresh_pull_requests(store, github=github) == {finding.fingerprint: "merged"}
    merged = repository.get(store, finding.fingerprint)
    assert merged is not None
    assert (merged.status, merged.pr_state) == ("open", "merged")
    # A newer service.version runs without the pattern: the analysis resolves the finding.
    resolved = resolve_if_gone(merged, ["2.0"], time.time_ns())
    assert resolved is not None
    repository.write(store, [resolved])
    assert refresh_pull_requests(store, github=github) == {finding.fingerprint: "resolved"}
    assert refresh_pull_requests(store, github=github) == {}
    prefix = finding.fingerprint[:6]
    assert pr_records(store) == [
        (prefix, "created", "open", "opened"),
        (prefix, "merged", "merged", "pull request #1 is merged on GitHub"),
        (prefix, "resolved", "merged", "merged in #1; profile 2.0 no longer shows the pattern"),
    ]
    shown = httpx.get(f"{server.api_url}/api/v1/findings/{finding.fingerprint}", timeout=10).json()
    assert (shown["status"], shown["resolved_version"]) == ("resolved", "2.0")
    assert (shown["pr_number"], shown["pr_state"]) == (1, "merged")
