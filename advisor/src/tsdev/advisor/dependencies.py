"""The repository's language and libraries, read from its dependency files.

Used twice: in the model's context (so it writes code with the libraries already there) and by the
codemods (a decorator from a library the repository does not declare comes with the edit that
declares it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tsdev.advisor.patch import Edit
from tsdev.advisor.source import RepoSource

DEPENDENCY_FILES = (
    "pyproject.toml",
    "requirements.txt",
    "requirements.in",
    "setup.cfg",
    "setup.py",
    "Pipfile",
)
_NAME = re.compile(r"^\s*[\"']?([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Stack:
    language: str
    libraries: tuple[str, ...]
    files: tuple[str, ...]

    def has(self, package: str) -> bool:
        return normalize(package) in self.libraries


def detect_stack(source: RepoSource) -> Stack:
    files = source.list_files()
    present = [f for f in DEPENDENCY_FILES if f in files]
    libraries: set[str] = set()
    for path in present:
        text = source.read(path) or ""
        if path == "pyproject.toml":
            for block in re.findall(r"(?ms)^\s*(?:dependencies|[\w-]+)\s*=\s*\[(.*?)\]", text):
                libraries.update(
                    normalize(m) for m in re.findall(r"[\"']([A-Za-z0-9][A-Za-z0-9._-]*)", block)
                )
        else:
            for line in text.splitlines():
                line = line.split("#", 1)[0]
                match = _NAME.match(line)
                if match and not line.strip().startswith("-"):
                    libraries.add(normalize(match.group(1)))
    python = sum(f.endswith(".py") for f in files)
    language = "python" if python or present else "unknown"
    return Stack(language, tuple(sorted(libraries)), tuple(present))


def declare(requirement: str, source: RepoSource, stack: Stack) -> Edit | None:
    """An edit that declares ``requirement`` (``name>=version``), or None when it is already
    declared or there is no file the advisor can safely append to."""
    name = _NAME.match(requirement)
    if name is None or stack.has(name.group(1)):
        return None
    if "requirements.txt" in stack.files:
        text = source.read("requirements.txt") or ""
        last = text.rstrip("\n").splitlines()[-1] if text.strip() else ""
        if (last and text.count(last + "\n") == 1) or (
            last and text.endswith(last) and text.count(last) == 1
        ):
            tail = last + ("\n" if text.endswith("\n") else "")
            return Edit(path="requirements.txt", old_text=tail, new_text=f"{last}\n{requirement}\n")
    if "pyproject.toml" in stack.files:
        text = source.read("pyproject.toml") or ""
        anchor = "dependencies = [\n"
        if text.count(anchor) == 1:
            return Edit(path="pyproject.toml", old_text=anchor, new_text=f'{anchor}    "{requirement}",\n')
    return None
