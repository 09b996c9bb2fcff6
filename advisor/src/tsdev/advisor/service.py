"""Finding -> patch -> pull request: the one entry point the CLI, the API and the bench call.

The order of the steps is the safety argument: nothing is written to GitHub before the patch
validated (exact anchors, compiling Python, allowed paths, diff size) and, when asked, passed the
repository's own tests on a copy of the checkout. A model's patch that fails validation gets one
retry with the refusal as feedback, then the deterministic codemod takes over.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tsdev.advisor.body import (
    branch_name,
    commit_message,
    fingerprint_prefix,
    labels,
    pr_body,
    pr_title,
    report,
)
from tsdev.advisor.codemods import NoCodemod, codemod_patch
from tsdev.advisor.config import CONFIG_PATH, RepoConfig
from tsdev.advisor.context import build_context
from tsdev.advisor.dependencies import detect_stack
from tsdev.advisor.locate import CodeHint, Location, locate
from tsdev.advisor.patch import PatchError, ValidatedPatch, validate, verify
from tsdev.advisor.settings import AdvisorSettings
from tsdev.advisor.source import GitHubSource, LocalSource, RepoSource
from tsdev.analysis.findings import Finding

if TYPE_CHECKING:
    from github import Github

logger = logging.getLogger(__name__)

Status = Literal["created", "updated", "unchanged", "commented", "skipped", "dry_run", "report", "failed"]


@dataclass
class AdviceResult:
    fingerprint: str
    status: Status
    reason: str = ""
    engine: str = ""
    branch: str = ""
    title: str = ""
    pr_number: int | None = None
    pr_url: str = ""
    pr_state: str = ""
    head_sha: str = ""
    diff: str = ""
    body: str = ""
    usage: dict[str, int] = field(default_factory=dict)
    attempts: list[str] = field(default_factory=list)
    """What was tried before the outcome: refused model patches, codemods that did not apply."""
    out_dir: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class AdviceError(RuntimeError):
    """The advice could not even start: no repository given, no token for a write, no such repo."""


def advise(
    finding: Finding,
    *,
    repo: str | None = None,
    repo_path: Path | None = None,
    settings: AdvisorSettings | None = None,
    dry_run: bool = False,
    out_dir: Path | None = None,
    verify_cmd: str | None = None,
    hints: Sequence[CodeHint] = (),
    regressed: bool = False,
    github: Github | None = None,
) -> AdviceResult:
    settings = settings or AdvisorSettings.from_env()
    gh_repo = None
    source: RepoSource
    if repo and (github is not None or settings.github_token or not repo_path):
        if github is None and not settings.github_token and not dry_run:
            raise AdviceError("opening a pull request needs a GitHub token (TSDEV_GITHUB_TOKEN)")
        from tsdev.advisor.github_pr import connect

        client = github or connect(settings)
        gh_repo = client.get_repo(repo)
    if repo_path is not None:
        source = LocalSource(repo_path)
    elif gh_repo is not None:
        base = gh_repo.get_branch(gh_repo.default_branch).commit.sha
        source = GitHubSource(gh_repo, base)
    else:
        raise AdviceError("give --repo owner/name, --repo-path, or both")
    if not dry_run and gh_repo is None:
        raise AdviceError("a pull request needs --repo owner/name (or use --dry-run)")

    result = AdviceResult(finding.fingerprint, "failed", branch=branch_name(finding), title=pr_title(finding))
    try:
        config = RepoConfig.parse(source.read(CONFIG_PATH))
    except (ValueError, TypeError) as exc:
        result.reason = f"{CONFIG_PATH} is invalid: {exc}"
        return result
    if finding.kind not in config.enabled_kinds:
        result.status, result.reason = "skipped", f"{finding.kind} is not enabled in {CONFIG_PATH}"
        return result
    locations = locate(finding, source, hints)
    stack = detect_stack(source)
    validated = _patch(finding, locations, source, stack, config, settings, result)
    out = out_dir or Path(".tsdev-advisor") / f"{finding.kind}-{fingerprint_prefix(finding.fingerprint)}"
    if validated is None:
        result.status = "report"
        result.body = report(finding, locations, result.reason, settings.tsdev_url)
        if dry_run or gh_repo is None:
            _write(out, {"report.md": result.body})
            result.out_dir = str(out)
        return result
    result.engine, result.usage, result.diff = (
        validated.patch.engine,
        dict(validated.patch.usage),
        validated.diff,
    )
    command = verify_cmd if verify_cmd is not None else config.verify_cmd
    output = ""
    if command and repo_path is not None:
        outcome = verify(repo_path, validated.files, command)
        if not outcome.ok:
            result.reason = (
                f"`{command}` failed with the patch (exit {outcome.returncode}): {outcome.output[-500:]}"
            )
            return result
        output = outcome.output
    result.body = pr_body(finding, validated, locations, settings.tsdev_url, output)
    if dry_run:
        edits = [e.model_dump() for e in validated.patch.edits]
        _write(
            out,
            {
                "patch.diff": validated.diff,
                "body.md": result.body,
                "edits.json": json.dumps(edits, indent=1),
                "pr.json": json.dumps(
                    {
                        "title": result.title,
                        "branch": result.branch,
                        "labels": labels(finding, config.labels),
                    },
                    indent=1,
                ),
            },
        )
        result.status, result.reason, result.out_dir = "dry_run", "nothing was written to GitHub", str(out)
        return result
    assert gh_repo is not None
    from tsdev.advisor.github_pr import PullRequestPlan, publish

    plan = PullRequestPlan(
        branch=result.branch,
        title=result.title,
        body=result.body,
        commit_message=commit_message(finding, validated),
        files=validated.files,
        labels=labels(finding, config.labels),
        draft=config.draft,
        reviewers=config.reviewers,
        fingerprint=finding.fingerprint,
    )
    published = publish(
        gh_repo,
        plan,
        max_open=config.max_open_prs,
        max_per_hour=config.max_new_prs_per_hour,
        regressed=regressed,
    )
    result.status, result.reason = published.action, published.reason
    result.pr_number, result.pr_url, result.pr_state = published.number, published.url, published.state
    result.head_sha = published.head_sha
    return result


def _patch(
    finding: Finding,
    locations: list[Location],
    source: RepoSource,
    stack: object,
    config: RepoConfig,
    settings: AdvisorSettings,
    result: AdviceResult,
) -> ValidatedPatch | None:
    from tsdev.advisor.dependencies import Stack

    assert isinstance(stack, Stack)
    if settings.model_enabled:
        from tsdev.advisor.model import model_patch

        context = build_context(finding, locations, source, stack, config, settings.context_chars)
        feedback = ""
        for _ in range(2):
            try:
                return validate(model_patch(context, settings, feedback), source, config)
            except PatchError as exc:
                feedback = str(exc)
                result.attempts.append(f"model: {exc}")
                logger.info("model patch refused for %s: %s", finding.fingerprint, exc)
                if "request failed" in feedback or "no model" in feedback:
                    break
    try:
        return validate(codemod_patch(finding, locations, source, stack), source, config)
    except (NoCodemod, PatchError) as exc:
        result.attempts.append(f"codemod: {exc}")
        result.reason = str(exc)
        return None


def _write(directory: Path, files: dict[str, str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
