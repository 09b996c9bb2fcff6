"""One pull request per finding, through PyGithub, with the manners users expect of a PR bot.

- The branch is ``tsdev/advisor/<kind>/<fingerprint prefix>``; the PR is found again by ``head``
  filtering on that branch and confirmed by the hidden marker in its body.
- One commit with every file, made with the Git Data API (blobs, a tree on the base tree, a commit):
  no checkout, and atomic for the reader.
- An open PR is updated in place when the branch holds only the advisor's commits (recognized by the
  ``Tsdev-Finding`` trailer); when a person has pushed to it, the advisor comments instead of
  overwriting their work.
- A PR closed without merge means "no": it is not proposed again unless the caller says the finding
  regressed. A merged one means done.
- At most ``max_open_prs`` open advisor PRs and ``max_new_prs_per_hour`` new ones per hour.
- Drafts when configured; where drafts are refused (plans without them), a normal PR.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from tsdev.advisor.body import BRANCH_PREFIX, COMMIT_TRAILER, marker

if TYPE_CHECKING:
    from github import Github
    from github.PullRequest import PullRequest
    from github.Repository import Repository

    from tsdev.advisor.settings import AdvisorSettings

logger = logging.getLogger(__name__)

Action = Literal["created", "updated", "unchanged", "commented", "skipped"]


@dataclass(frozen=True)
class PullRequestPlan:
    branch: str
    title: str
    body: str
    commit_message: str
    files: dict[str, str]
    labels: list[str]
    draft: bool
    reviewers: tuple[str, ...]
    fingerprint: str


@dataclass(frozen=True)
class PublishResult:
    action: Action
    reason: str
    number: int | None = None
    url: str = ""
    state: str = ""
    head_sha: str = ""


def connect(settings: AdvisorSettings, *, for_tests: bool = False) -> Github:
    """A client for github.com or a GitHub Enterprise base URL. ``for_tests`` turns off PyGithub's
    retries and request spacing, which only slow down a local server."""
    from github import Auth, Github

    auth = Auth.Token(settings.github_token) if settings.github_token else None
    if for_tests:
        return Github(
            auth=auth,
            base_url=settings.github_api_url,
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
        )
    return Github(auth=auth, base_url=settings.github_api_url, timeout=30)


def find_pull(repo: Repository, plan: PullRequestPlan) -> PullRequest | None:
    """The newest PR from the finding's branch that carries its marker."""
    owner = repo.owner.login
    found = [
        p
        for p in repo.get_pulls(state="all", head=f"{owner}:{plan.branch}")
        if marker(plan.fingerprint) in (p.body or "")
    ]
    return max(found, key=lambda p: p.number) if found else None


def check_limits(repo: Repository, max_open: int, max_per_hour: int, now: datetime | None = None) -> str:
    """Why a new PR may not be opened now, or ``""``."""
    now = now or datetime.now(UTC)
    ours = [p for p in repo.get_pulls(state="all") if p.head.ref.startswith(BRANCH_PREFIX)]
    open_count = sum(p.state == "open" for p in ours)
    if open_count >= max_open:
        return f"{open_count} advisor pull requests are open (limit {max_open})"
    hour_ago = now - timedelta(hours=1)
    recent = sum(_aware(p.created_at) >= hour_ago for p in ours)
    if recent >= max_per_hour:
        return f"{recent} advisor pull requests were opened in the last hour (limit {max_per_hour})"
    return ""


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def publish(
    repo: Repository,
    plan: PullRequestPlan,
    *,
    max_open: int,
    max_per_hour: int,
    regressed: bool = False,
) -> PublishResult:
    from github import GithubException

    base_branch = repo.default_branch
    base_sha = repo.get_branch(base_branch).commit.sha
    existing = find_pull(repo, plan)
    if existing is not None and existing.state == "closed":
        if existing.merged:
            if not regressed:
                return _result("skipped", "the fix was merged", existing)
        elif not regressed:
            return _result(
                "skipped", "a person closed this finding's pull request without merging it", existing
            )
        existing = None
    if existing is not None:
        return _update(repo, existing, plan, base_sha)
    reason = check_limits(repo, max_open, max_per_hour)
    if reason:
        return PublishResult("skipped", reason)
    commit_sha = _commit(repo, plan, base_sha, parent=base_sha)
    ref = f"refs/heads/{plan.branch}"
    try:
        repo.create_git_ref(ref, commit_sha)
    except GithubException as exc:
        if exc.status != 422:
            raise
        # A stale branch from a closed PR: ours to reset only if a person has not pushed to it.
        if not _only_ours(repo, plan.branch, base_sha):
            return PublishResult(
                "skipped", f"branch {plan.branch} exists with commits that are not the advisor's"
            )
        repo.get_git_ref(f"heads/{plan.branch}").edit(commit_sha, force=True)
    try:
        pull = repo.create_pull(
            base=base_branch, head=plan.branch, title=plan.title, body=plan.body, draft=plan.draft
        )
    except GithubException as exc:
        if not plan.draft or exc.status not in (403, 422):
            raise
        logger.info("draft pull requests refused (%s); opening a normal one", exc.status)
        pull = repo.create_pull(base=base_branch, head=plan.branch, title=plan.title, body=plan.body)
    _decorate(pull, plan)
    return PublishResult("created", "opened", pull.number, pull.html_url, "open", commit_sha)


def _update(repo: Repository, pull: PullRequest, plan: PullRequestPlan, base_sha: str) -> PublishResult:
    head_sha = pull.head.sha
    if not _only_ours(repo, plan.branch, base_sha, head_sha):
        pull.create_issue_comment(
            "tsdev advisor has a newer patch for this finding, but the branch has commits that are not its "
            "own, so it was not pushed. The change it would make:\n\n" + _files_summary(plan)
        )
        return _result("commented", "the branch has commits from a person", pull)
    tree = repo.get_git_commit(head_sha).tree.sha
    new_tree = _tree(repo, plan, base_sha)
    if tree == new_tree and repo.get_git_commit(head_sha).parents[0].sha == base_sha:
        return _result("unchanged", "the open pull request already has this patch", pull)
    commit_sha = _commit(repo, plan, base_sha, parent=base_sha, tree_sha=new_tree)
    # Only the advisor's own commits are replaced (checked above), so forcing loses nothing of anyone's.
    repo.get_git_ref(f"heads/{plan.branch}").edit(commit_sha, force=True)
    if pull.body != plan.body or pull.title != plan.title:
        pull.edit(title=plan.title, body=plan.body)
    return PublishResult(
        "updated", "pushed the new patch", pull.number, pull.html_url, pull.state, commit_sha
    )


def _only_ours(repo: Repository, branch: str, base_sha: str, head_sha: str | None = None) -> bool:
    """The branch head is the advisor's single commit (it carries the trailer).

    The advisor always writes exactly one commit whose parent is a base-branch commit, so a head
    without the trailer means someone pushed on top of it (or replaced it)."""
    sha = head_sha or repo.get_branch(branch).commit.sha
    if sha == base_sha:
        return True
    return f"{COMMIT_TRAILER}:" in repo.get_git_commit(sha).message


def _tree(repo: Repository, plan: PullRequestPlan, base_sha: str) -> str:
    from github import InputGitTreeElement

    elements = []
    for path, text in sorted(plan.files.items()):
        blob = repo.create_git_blob(text, "utf-8")
        elements.append(InputGitTreeElement(path, "100644", "blob", sha=blob.sha))
    base_tree = repo.get_git_commit(base_sha).tree
    return repo.create_git_tree(elements, base_tree).sha


def _commit(
    repo: Repository, plan: PullRequestPlan, base_sha: str, parent: str, tree_sha: str | None = None
) -> str:
    tree = repo.get_git_tree(tree_sha or _tree(repo, plan, base_sha))
    return repo.create_git_commit(plan.commit_message, tree, [repo.get_git_commit(parent)]).sha


def _decorate(pull: PullRequest, plan: PullRequestPlan) -> None:
    """Labels and reviewers are courtesy: a failure there must not lose the PR that was opened."""
    from github import GithubException

    try:
        pull.add_to_labels(*plan.labels)
    except GithubException as exc:
        logger.warning("could not label PR %s: %s", pull.number, exc.status)
    if plan.reviewers:
        try:
            pull.create_review_request(reviewers=list(plan.reviewers))
        except GithubException as exc:
            logger.warning("could not request reviewers on PR %s: %s", pull.number, exc.status)


def _files_summary(plan: PullRequestPlan) -> str:
    return "\n".join(f"- `{path}`" for path in sorted(plan.files))


def _result(action: Action, reason: str, pull: PullRequest) -> PublishResult:
    return PublishResult(
        action, reason, pull.number, pull.html_url, "merged" if pull.merged else pull.state, pull.head.sha
    )
