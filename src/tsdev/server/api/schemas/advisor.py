"""Request and answer of ``POST /api/v1/findings/{id}/advise``."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AdviseRequest(BaseModel):
    repo: str = Field(pattern=r"^[\w.-]+/[\w.-]+$", description="owner/name of the GitHub repository")
    dry_run: bool = Field(default=False, description="Make and validate the patch, write nothing to GitHub")
    regressed: bool = Field(default=False, description="Propose again even if a PR was closed without merge")


class AdviseResult(BaseModel):
    fingerprint: str
    status: str = Field(
        description="created, updated, unchanged, commented, skipped, dry_run, report or failed"
    )
    reason: str
    engine: str
    branch: str
    title: str
    pr_number: int | None
    pr_url: str
    pr_state: str
    diff: str
    body: str
    attempts: list[str]
    usage: dict[str, int]
