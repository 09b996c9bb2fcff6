"""The scheduled advisor: after each analysis pass, fixes for new high-impact findings; PR states read back.

Off unless ``TSDEV_ADVISOR_SCHEDULE_REPO`` names a repository. Each pass

1. reads back the state of the advisor's pull requests still recorded as open (PyGithub): a merged or
   closed one is stored on the finding and in a new ``tsdev_advisor_pull_requests`` row; once the PR
   is merged and the analysis has resolved the finding (a newer ``service.version`` without the
   pattern), a row with status ``resolved`` says so;
2. advises the open findings saving at least ``TSDEV_ADVISOR_MIN_SAVING_MS_PER_HOUR``, of the kinds the
   repository enabled, that have no PR yet and no earlier report or failure, largest saving first,
   through :func:`~tsdev.advisor.service.advise` and :func:`~tsdev.advisor.records.record` like the
   manual path. It stops at the PR layer's limits (open PRs, new PRs per hour).

:func:`run_after_analysis` is what the schedulers call; it never raises.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tsdev.advisor.records import finding_of, record, record_pr_state
from tsdev.advisor.service import AdviceResult, advise
from tsdev.advisor.settings import AdvisorSettings

if TYPE_CHECKING:
    from github import Github

    from tsdev.core.settings import Settings
    from tsdev.core.store import Store

logger = logging.getLogger(__name__)

CANDIDATES = 200
"""Open findings looked at per pass, largest saving first."""

_NOT_AGAIN = ("report", "failed")
"""Earlier outcomes the schedule does not retry on its own (``tsdev advise`` still can)."""


@dataclass
class ScheduledPass:
    advised: list[AdviceResult] = field(default_factory=list)
    refreshed: dict[str, str] = field(default_factory=dict)
    """Fingerprint -> the PR state or resolution recorded by this pass."""
    stopped: str = ""
    """Why advising stopped early (a PR limit), or ``""``."""


def run_after_analysis(
    store: Store, settings: Settings, github: Github | None = None
) -> ScheduledPass | None:
    """The scheduled pass when ``advisor_schedule_repo`` is set; logs and swallows any failure."""
    repo = settings.advisor_schedule_repo
    if not repo:
        return None
    try:
        advisor_settings = AdvisorSettings.from_env()
        done = ScheduledPass()
        done.refreshed = refresh_pull_requests(store, advisor_settings, github=github)
        advised = advise_new_findings(
            store,
            repo,
            min_saving_ms_per_hour=settings.advisor_min_saving_ms_per_hour,
            settings=advisor_settings,
            github=github,
        )
        done.advised, done.stopped = advised.advised, advised.stopped
        return done
    except Exception:
        logger.exception("scheduled advisor pass on %s failed; trying again after the next analysis", repo)
        return None


def advise_new_findings(
    store: Store,
    repo: str,
    *,
    min_saving_ms_per_hour: float,
    settings: AdvisorSettings | None = None,
    github: Github | None = None,
) -> ScheduledPass:
    """Advise each open finding above the threshold with no PR yet; record every attempt."""
    from tsdev.advisor.config import CONFIG_PATH, RepoConfig
    from tsdev.advisor.github_pr import check_limits, connect
    from tsdev.advisor.source import GitHubSource
    from tsdev.analysis.jobs import repository

    settings = settings or AdvisorSettings.from_env()
    done = ScheduledPass()
    tried = _latest_records(store, repo)
    candidates = [
        f
        for f in repository.search(store, status="open", limit=CANDIDATES)
        if f.estimated_saving_ms_per_hour >= min_saving_ms_per_hour
        and f.pr_number is None
        and tried.get(f.fingerprint, ("", "", None))[0] not in _NOT_AGAIN
    ]
    if not candidates:
        return done
    client = github or connect(settings)
    gh_repo = client.get_repo(repo)
    base = gh_repo.get_branch(gh_repo.default_branch).commit.sha
    config = RepoConfig.parse(GitHubSource(gh_repo, base).read(CONFIG_PATH))
    for stored in candidates:
        if stored.kind not in config.enabled_kinds:
            continue
        reason = check_limits(gh_repo, config.max_open_prs, config.max_new_prs_per_hour)
        if reason:
            done.stopped = reason
            logger.info("scheduled advisor stops on %s: %s", repo, reason)
            break
        finding = finding_of(stored)
        result = advise(finding, repo=repo, settings=settings, github=client)
        record(store, repo, finding, result)
        done.advised.append(result)
        logger.info("scheduled advisor: %s %s (%s)", finding.fingerprint, result.status, result.reason)
    return done


def refresh_pull_requests(
    store: Store, settings: AdvisorSettings | None = None, github: Github | None = None
) -> dict[str, str]:
    """Read back the state of recorded pull requests; store merged/closed ones and resolutions.

    Returns fingerprint -> what was recorded (``merged``, ``closed``, ``open`` or ``resolved``)."""
    from tsdev.analysis.jobs import repository

    client = github
    changed: dict[str, str] = {}
    for (repo, fingerprint), (status, state, number) in _latest_records(store).items():
        if number is None or status == "resolved" or state == "closed":
            continue
        stored = repository.get(store, fingerprint)
        if stored is None or stored.pr_number != number:
            continue
        now = state
        if state != "merged":
            if client is None:
                from tsdev.advisor.github_pr import connect

                client = connect(settings or AdvisorSettings.from_env())
            pull = client.get_repo(repo).get_pull(number)
            now = "merged" if pull.merged else pull.state
        if now == "merged" and stored.status == "resolved":
            note = (
                f"merged in #{number}; {stored.service} {stored.resolved_version} no longer shows the pattern"
            )
            record_pr_state(store, repo, stored, "resolved", "merged", note)
            changed[fingerprint] = "resolved"
        elif now != state:
            record_pr_state(store, repo, stored, now, now, f"pull request #{number} is {now} on GitHub")
            changed[fingerprint] = now
    return changed


def _latest_records(store: Store, repo: str | None = None) -> dict[Any, tuple[str, str, int | None]]:
    """The newest advisor record per (repo, fingerprint) -> (status, PR state, PR number); keyed by
    fingerprint alone when ``repo`` is given."""
    from tsdev.core.store.ddl_advisor import ADVISOR_PULL_REQUESTS

    where = "Repo = {repo:String}" if repo else "1"
    rows = store.query_rows(
        f"SELECT Repo, Fingerprint, argMax(Status, CreatedAt), argMax(PrState, CreatedAt), "  # noqa: S608
        f"argMax(PrNumber, CreatedAt) FROM {store.table(ADVISOR_PULL_REQUESTS)} WHERE {where} "
        "GROUP BY Repo, Fingerprint",
        {"repo": repo or ""},
    )
    out: dict[Any, tuple[str, str, int | None]] = {}
    for r, fp, status, state, number in rows:
        out[fp if repo else (r, fp)] = (status, state, None if number is None else int(number))
    return out
