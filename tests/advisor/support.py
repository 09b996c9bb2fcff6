"""Builders shared by the advisor tests: findings from the samples, repositories, settings."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.advisor.github_server import git
from tsdev.analysis.findings import Finding

SAMPLES = Path(__file__).parent / "samples"


def sample_finding(name: str) -> Finding:
    return Finding.model_validate_json((SAMPLES / name / "finding.json").read_text())


def monorepo(directory: Path, names: list[str], config: str | None = None) -> Path:
    """One git repository holding the given samples, each in its own folder, on ``main``."""
    directory.mkdir(parents=True)
    git(directory, "init", "-q", "-b", "main")
    for name in names:
        shutil.copytree(
            SAMPLES / name, directory / name, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache")
        )
    if config is not None:
        (directory / ".tsdev").mkdir()
        (directory / ".tsdev" / "advisor.yml").write_text(config)
    git(directory, "add", "-A")
    git(directory, "commit", "-q", "-m", "Initial commit")
    return directory
