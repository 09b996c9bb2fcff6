"""Where the repository's files are read from: a local checkout, or the GitHub API at a commit.

Both answer the same two questions (which files, what text), so locating code and building context
never care where the files come from. Reads are cached: context building asks for the same file
several times, and every GitHub read is a request.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from github.Repository import Repository

MAX_FILE_BYTES = 512 * 1024
"""Larger files (generated code, data) are never read into context."""

_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", "dist", "build", ".mypy_cache"}


class RepoSource(Protocol):
    def list_files(self) -> list[str]: ...

    def read(self, path: str) -> str | None: ...


class LocalSource:
    """A checkout on disk; tracked files when it is a git repository, otherwise a walk."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._files: list[str] | None = None
        self._cache: dict[str, str | None] = {}

    def list_files(self) -> list[str]:
        if self._files is None:
            self._files = sorted(self._git_files() or self._walk())
        return self._files

    def _git_files(self) -> list[str]:
        if not (self.root / ".git").exists():
            return []
        done = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=self.root,
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            return []
        return [p for p in done.stdout.decode().split("\0") if p]

    def _walk(self) -> list[str]:
        found = []
        for directory, dirs, files in os.walk(self.root):
            dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
            for name in files:
                found.append(str(Path(directory, name).relative_to(self.root).as_posix()))
        return found

    def read(self, path: str) -> str | None:
        if path not in self._cache:
            full = (self.root / path).resolve()
            text = None
            if full.is_relative_to(self.root) and full.is_file() and full.stat().st_size <= MAX_FILE_BYTES:
                try:
                    text = full.read_text(encoding="utf-8")
                except UnicodeDecodeError:
                    text = None
            self._cache[path] = text
        return self._cache[path]


class GitHubSource:
    """The repository at one commit, read through the REST API (trees and contents)."""

    def __init__(self, repo: Repository, ref: str) -> None:
        self.repo = repo
        self.ref = ref
        self._files: list[str] | None = None
        self._cache: dict[str, str | None] = {}

    def list_files(self) -> list[str]:
        if self._files is None:
            tree = self.repo.get_git_tree(self.ref, recursive=True)
            self._files = sorted(
                e.path
                for e in tree.tree
                if e.type == "blob"
                and (e.size or 0) <= MAX_FILE_BYTES
                and not _SKIP_DIRS.intersection(e.path.split("/"))
            )
        return self._files

    def read(self, path: str) -> str | None:
        if path not in self._cache:
            from github import GithubException

            text = None
            try:
                content = self.repo.get_contents(path, ref=self.ref)
                if not isinstance(content, list) and content.type == "file":
                    text = content.decoded_content.decode("utf-8")
            except (GithubException, UnicodeDecodeError):
                text = None
            self._cache[path] = text
        return self._cache[path]
