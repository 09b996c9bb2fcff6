"""End to end: sample findings become pull requests on a local GitHub through PyGithub.

The repository behind the server is real git, so the tests check out the PR branches and run the
patched sample's own tests on them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from github import Github

from tests.advisor.github_server import FakeGitHub, git
from tests.advisor.support import monorepo, sample_finding
from tsdev.advisor import AdvisorSettings, advise
from tsdev.advisor.github_pr import connect

ALL_KINDS = "max_new_prs_per_hour: 10\n"


@pytest.fixture
def hub(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[FakeGitHub]:
    marker = request.node.get_closest_marker("repo_config")
    config = marker.args[0] if marker else ALL_KINDS
    repo = monorepo(
        tmp_path / "origin", ["profile_async", "rates_async", "catalog_async", "orders_nplus1"], config
    )
    server = FakeGitHub(repo).start()
    yield server
    server.stop()


@pytest.fixture
def settings(hub: FakeGitHub) -> AdvisorSettings:
    return AdvisorSettings.from_env({}, github_token="ghp_testtoken", github_api_url=hub.base)


@pytest.fixture
def github(settings: AdvisorSettings) -> Github:
    return connect(settings, for_tests=True)


def run_sample_tests(
    hub: FakeGitHub, branch: str, sample: str, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    worktree = tmp_path / f"wt-{sample}"
    git(hub.repo_dir, "worktree", "add", "-q", str(worktree), branch)
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=worktree / sample,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_findings_become_pull_requests_whose_branches_pass_the_sample_tests(
    hub: FakeGitHub, settings: AdvisorSettings, github: Github, tmp_path: Path
) -> None:
    results = {}
    for sample in ("profile_async", "rates_async", "catalog_async"):
        finding = sample_finding(sample)
        results[sample] = advise(finding, repo="acme/shop", settings=settings, github=github)
        assert results[sample].status == "created", results[sample]
    assert [p["number"] for p in hub.pulls] == [1, 2, 3]
    profile = hub.pulls[0]
    assert profile["head"] == "tsdev/advisor/parallelizable/0123456789ab"
    assert profile["title"] == "perf(profile): Parallelize calls in get_profile"
    assert "<!-- tsdev-finding: v1:0123456789abcdef0123456789abcdef -->" in profile["body"]
    for section in (
        "## What was found",
        "## Evidence",
        "## The change",
        "## Expected impact",
        "## Risks and rollback",
        "## How to verify",
    ):
        assert section in profile["body"]
    assert "/api/v1/traces/8bf92f3577b34da6a3ce929d0e0e4736" in profile["body"]
    assert profile["labels"] == ["tsdev-advisor", "performance"]
    assert hub.pulls[1]["labels"] == ["tsdev-advisor", "reliability"]
    # One commit on top of main, carrying the trailer, touching only the located file.
    head = hub.ref_sha(profile["head"])
    assert git(hub.repo_dir, "rev-parse", f"{head}^") == hub.ref_sha("main")
    assert "Tsdev-Finding: v1:0123456789abcdef" in git(hub.repo_dir, "log", "-1", "--format=%B", head)
    assert git(hub.repo_dir, "diff", "--name-only", "main", head) == "profile_async/profile_async/profile.py"
    patched = git(hub.repo_dir, "show", f"{head}:profile_async/profile_async/profile.py")
    assert "await asyncio.gather(load_user(user_id), load_prefs(user_id), load_recs(user_id))" in patched
    for number, sample in ((1, "profile_async"), (2, "rates_async"), (3, "catalog_async")):
        done = run_sample_tests(hub, hub.pulls[number - 1]["head"], sample, tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert " passed" in done.stdout


def test_advising_again_updates_rather_than_duplicates(
    hub: FakeGitHub, settings: AdvisorSettings, github: Github
) -> None:
    finding = sample_finding("profile_async")
    assert advise(finding, repo="acme/shop", settings=settings, github=github).status == "created"
    again = advise(finding, repo="acme/shop", settings=settings, github=github)
    assert again.status == "unchanged"
    assert len(hub.pulls) == 1
    # The base moved on: the advisor's own branch is rebuilt on the new base, same PR.
    git(hub.repo_dir, "commit", "-q", "--allow-empty", "-m", "Unrelated work on main")
    moved = advise(finding, repo="acme/shop", settings=settings, github=github)
    assert moved.status == "updated"
    assert git(hub.repo_dir, "rev-parse", f"{hub.ref_sha(hub.pulls[0]['head'])}^") == hub.ref_sha("main")
    assert len(hub.pulls) == 1


def test_commits_of_a_person_are_never_overwritten(
    hub: FakeGitHub, settings: AdvisorSettings, github: Github
) -> None:
    finding = sample_finding("profile_async")
    advise(finding, repo="acme/shop", settings=settings, github=github)
    branch = hub.pulls[0]["head"]
    human = hub.human_commit(branch, "profile_async/NOTES.md", "reviewed by hand\n")
    git(hub.repo_dir, "commit", "-q", "--allow-empty", "-m", "Unrelated work on main")
    result = advise(finding, repo="acme/shop", settings=settings, github=github)
    assert result.status == "commented"
    assert hub.ref_sha(branch) == human
    assert "not its own" in hub.comments[1][0]["body"]


def test_a_pull_request_closed_without_merge_is_not_proposed_again_unless_regressed(
    hub: FakeGitHub, settings: AdvisorSettings, github: Github
) -> None:
    finding = sample_finding("rates_async")
    advise(finding, repo="acme/shop", settings=settings, github=github)
    hub.close_pull(1)
    again = advise(finding, repo="acme/shop", settings=settings, github=github)
    assert (again.status, again.pr_number) == ("skipped", 1)
    assert "without merging" in again.reason
    assert len(hub.pulls) == 1
    regressed = advise(finding, repo="acme/shop", settings=settings, github=github, regressed=True)
    assert (regressed.status, regressed.pr_number) == ("created", 2)


@pytest.mark.repo_config("max_open_prs: 5\nmax_new_prs_per_hour: 2\n")
def test_at_most_two_new_pull_requests_per_hour(
    hub: FakeGitHub, settings: AdvisorSettings, github: Github
) -> None:
    statuses = [
        advise(sample_finding(s), repo="acme/shop", settings=settings, github=github).status
        for s in ("profile_async", "rates_async", "catalog_async")
    ]
    assert statuses == ["created", "created", "skipped"]
    assert len(hub.pulls) == 2


@pytest.mark.repo_config("max_open_prs: 1\nmax_new_prs_per_hour: 10\ndraft: true\n")
def test_open_limit_and_drafts(hub: FakeGitHub, settings: AdvisorSettings, github: Github) -> None:
    first = advise(sample_finding("profile_async"), repo="acme/shop", settings=settings, github=github)
    second = advise(sample_finding("rates_async"), repo="acme/shop", settings=settings, github=github)
    assert (first.status, second.status) == ("created", "skipped")
    assert "1 advisor pull requests are open" in second.reason
    assert hub.pulls[0]["draft"] is True


@pytest.mark.repo_config("draft: true\nmax_new_prs_per_hour: 10\n")
def test_drafts_fall_back_to_a_normal_pull_request_where_unsupported(
    hub: FakeGitHub, settings: AdvisorSettings, github: Github
) -> None:
    hub.drafts_supported = False
    result = advise(sample_finding("profile_async"), repo="acme/shop", settings=settings, github=github)
    assert result.status == "created"
    assert hub.pulls[0]["draft"] is False


def test_dry_run_writes_patch_diff_and_body_and_nothing_to_github(
    hub: FakeGitHub, settings: AdvisorSettings, github: Github, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = advise(
        sample_finding("catalog_async"),
        repo="acme/shop",
        settings=settings,
        github=github,
        dry_run=True,
        out_dir=out,
    )
    assert result.status == "dry_run"
    assert "+@alru_cache(maxsize=1024, ttl=300)" in (out / "patch.diff").read_text()
    assert "<!-- tsdev-finding: v1:c0ffee00" in (out / "body.md").read_text()
    assert (out / "edits.json").exists()
    assert [m for m, _ in hub.requests if m != "GET"] == []
    assert hub.pulls == []


def test_n_plus_one_without_a_model_is_a_report_not_a_pull_request(
    hub: FakeGitHub, settings: AdvisorSettings, github: Github
) -> None:
    result = advise(sample_finding("orders_nplus1"), repo="acme/shop", settings=settings, github=github)
    assert result.status == "report"
    assert "batched query" in result.reason
    assert "`orders_nplus1/orders_nplus1/orders.py`: `order_history`" in result.body
    assert hub.pulls == []


@pytest.mark.repo_config("enabled_kinds: [cacheable]\n")
def test_kinds_the_repository_did_not_enable_are_skipped(
    hub: FakeGitHub, settings: AdvisorSettings, github: Github
) -> None:
    result = advise(sample_finding("profile_async"), repo="acme/shop", settings=settings, github=github)
    assert (result.status, hub.pulls) == ("skipped", [])
