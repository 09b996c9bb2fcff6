"""``.tsdev/advisor.yml``: what a repository lets the advisor do.

Read from the default branch (or the local checkout), so a team controls the bot with a reviewed
change like any other. Unknown keys are ignored rather than refused: a newer config must not stop an
older advisor. Example::

    enabled_kinds: [flaky_step, cacheable, parallelizable]
    allowed_paths: ["src/**", "app/**"]
    labels: [tsdev-advisor]
    draft: true
    reviewers: [alice]
    max_open_prs: 5
    max_new_prs_per_hour: 2
    max_diff_lines: 400
    verify_cmd: "pytest -q"
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

import yaml

from tsdev.analysis.findings import KINDS, FindingKind

CONFIG_PATH = ".tsdev/advisor.yml"
BOT_LABEL = "tsdev-advisor"


@dataclass(frozen=True)
class RepoConfig:
    enabled_kinds: tuple[FindingKind, ...] = KINDS
    allowed_paths: tuple[str, ...] = ("**",)
    denied_paths: tuple[str, ...] = (".github/**", ".tsdev/**", "**/.env", "**/*.pem", "**/secrets*")
    """Never edited whatever ``allowed_paths`` says: CI definitions, the bot's own config, secrets."""
    labels: tuple[str, ...] = (BOT_LABEL,)
    draft: bool = False
    reviewers: tuple[str, ...] = ()
    max_open_prs: int = 5
    max_new_prs_per_hour: int = 2
    max_diff_lines: int = 400
    verify_cmd: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def path_allowed(self, path: str) -> bool:
        if path.startswith("/") or ".." in path.split("/"):
            return False
        if any(_match(path, pattern) for pattern in self.denied_paths):
            return False
        return any(_match(path, pattern) for pattern in self.allowed_paths)

    @classmethod
    def parse(cls, text: str | None) -> RepoConfig:
        if not text:
            return cls()
        raw = yaml.safe_load(text) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{CONFIG_PATH} must be a mapping")
        known: dict[str, Any] = {}
        for key in ("enabled_kinds", "allowed_paths", "labels", "reviewers"):
            if key in raw:
                known[key] = tuple(str(v) for v in raw[key] or ())
        if "enabled_kinds" in known:
            known["enabled_kinds"] = tuple(k for k in known["enabled_kinds"] if k in KINDS)
        for key in ("max_open_prs", "max_new_prs_per_hour", "max_diff_lines"):
            if key in raw:
                known[key] = int(raw[key])
        if "draft" in raw:
            known["draft"] = bool(raw["draft"])
        if "verify_cmd" in raw:
            known["verify_cmd"] = str(raw["verify_cmd"] or "")
        if BOT_LABEL not in known.get("labels", (BOT_LABEL,)):
            known["labels"] = (BOT_LABEL, *known["labels"])
        return cls(**known)


def _match(path: str, pattern: str) -> bool:
    """``fnmatch`` where ``**/`` may also match nothing, so ``src/**`` covers ``src/a.py``."""
    if fnmatch.fnmatch(path, pattern):
        return True
    return pattern.startswith("**/") and fnmatch.fnmatch(path, pattern[3:])
