"""The patch: exact text edits, and the checks they pass before anything leaves the machine.

An edit replaces one occurrence of ``old_text`` in a file. Exact text rather than a diff or line
numbers, because that is what a model can reproduce reliably and what can be checked unambiguously:
an ``old_text`` that occurs zero or several times is refused, never guessed at.
"""

from __future__ import annotations

import difflib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tsdev.advisor.config import RepoConfig
from tsdev.advisor.source import RepoSource

Engine = Literal["model", "codemod"]


class PatchError(ValueError):
    """The patch cannot be used; the message says why, for the report and the fallback decision."""


class Edit(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(min_length=1)
    old_text: str
    """Exactly once in the file; empty only to create a file that does not exist."""
    new_text: str


class Patch(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    rationale: str
    risks: str
    verification: str
    edits: tuple[Edit, ...] = Field(min_length=1)
    engine: Engine = "codemod"
    model: str = ""
    usage: dict[str, int] = Field(default_factory=dict)
    """Tokens of the model request(s): input, output, cache creation and cache read."""


@dataclass(frozen=True)
class ValidatedPatch:
    patch: Patch
    files: dict[str, str]
    """New full text of every changed file."""
    originals: dict[str, str]
    diff: str

    @property
    def diff_lines(self) -> int:
        return sum(
            1 for line in self.diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")
        )


def apply_edits(edits: tuple[Edit, ...], source: RepoSource) -> tuple[dict[str, str], dict[str, str]]:
    """``(new texts, original texts)`` per path; edits to one file apply in order."""
    files: dict[str, str] = {}
    originals: dict[str, str] = {}
    for edit in edits:
        if edit.path not in files:
            current = source.read(edit.path)
            if current is None and edit.old_text:
                raise PatchError(f"{edit.path}: no such file")
            originals[edit.path] = current or ""
            files[edit.path] = current or ""
        text = files[edit.path]
        if not edit.old_text:
            if text:
                raise PatchError(f"{edit.path}: empty old_text on an existing file")
            files[edit.path] = edit.new_text
            continue
        count = text.count(edit.old_text)
        if count != 1:
            raise PatchError(f"{edit.path}: old_text occurs {count} times, expected exactly once")
        files[edit.path] = text.replace(edit.old_text, edit.new_text, 1)
    return files, originals


def validate(patch: Patch, source: RepoSource, config: RepoConfig) -> ValidatedPatch:
    for edit in patch.edits:
        if not config.path_allowed(edit.path):
            raise PatchError(f"{edit.path}: outside the allowed paths")
    files, originals = apply_edits(patch.edits, source)
    changed = {p: t for p, t in files.items() if t != originals[p]}
    if not changed:
        raise PatchError("the patch changes nothing")
    for path, text in changed.items():
        if path.endswith(".py"):
            try:
                compile(text, path, "exec", dont_inherit=True)
            except SyntaxError as exc:
                raise PatchError(
                    f"{path}: does not compile after the patch: {exc.msg} (line {exc.lineno})"
                ) from exc
    diff = unified_diff(originals, changed)
    validated = ValidatedPatch(patch, changed, {p: originals[p] for p in changed}, diff)
    if validated.diff_lines > config.max_diff_lines:
        raise PatchError(
            f"the diff has {validated.diff_lines} changed lines, over the limit of {config.max_diff_lines}"
        )
    return validated


def unified_diff(originals: dict[str, str], files: dict[str, str]) -> str:
    parts: list[str] = []
    for path in sorted(files):
        old = originals.get(path, "")
        parts.extend(
            difflib.unified_diff(
                old.splitlines(keepends=True),
                files[path].splitlines(keepends=True),
                fromfile=f"a/{path}" if old else "/dev/null",
                tofile=f"b/{path}",
            )
        )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in parts
    )


@dataclass(frozen=True)
class Verification:
    ok: bool
    returncode: int
    output: str


def verify(root: Path, files: dict[str, str], command: str, timeout_s: float = 600.0) -> Verification:
    """Run the repository's own test command on a copy of the checkout with the patch applied.

    A copy, so a failing patch never touches the user's working tree; the command runs through the
    shell because that is how people write it in their config (``make test``, ``pytest -q && ...``).
    """
    with tempfile.TemporaryDirectory(prefix="tsdev-verify-") as tmp:
        work = Path(tmp) / "repo"
        shutil.copytree(root, work, symlinks=True, ignore=shutil.ignore_patterns(".venv", "node_modules"))
        for path, text in files.items():
            target = work / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        try:
            done = subprocess.run(  # noqa: S602 (the repository owner's own command)
                command, shell=True, cwd=work, capture_output=True, text=True, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired:
            return Verification(ok=False, returncode=-1, output=f"timed out after {timeout_s:g} s")
        output = (done.stdout + done.stderr)[-4000:]
        return Verification(ok=done.returncode == 0, returncode=done.returncode, output=output)
