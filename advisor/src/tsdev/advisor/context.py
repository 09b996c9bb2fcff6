"""The compact context a patch is made from: evidence, the code, the stack, the repository's rules.

Compact because the model pays for every token and reads a short context better: the located
functions with some surrounding lines (whole files only when small), not the repository. Anything
that looks like a credential is replaced before it can reach a prompt.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from tsdev.advisor.config import RepoConfig
from tsdev.advisor.dependencies import Stack
from tsdev.advisor.locate import Location
from tsdev.advisor.source import RepoSource
from tsdev.analysis.findings import Finding

SMALL_FILE_LINES = 200
SURROUNDING_LINES = 30
_SECRET_PATTERNS = (
    re.compile(r"\b(?:sk-ant-[\w-]{10,}|sk-[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,})"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"),
    re.compile(
        r"(?i)((?:password|passwd|secret|token|api[_-]?key|private[_-]?key)\w*\s*[:=]\s*)([\"'])[^\"'\n]{4,}\2"
    ),
)


def redact(text: str) -> str:
    """``text`` with tokens, keys and assigned secrets replaced by ``<redacted>``."""
    for pattern in _SECRET_PATTERNS:
        if pattern.groups >= 2:
            text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}<redacted>{m.group(2)}", text)
        else:
            text = pattern.sub("<redacted>", text)
    return text


@dataclass(frozen=True)
class Snippet:
    path: str
    first_line: int
    text: str
    reason: str


@dataclass(frozen=True)
class Context:
    finding: Finding
    locations: tuple[Location, ...]
    snippets: tuple[Snippet, ...]
    stack: Stack
    config: RepoConfig

    def render(self) -> str:
        """The user message: stable order, so the same finding gives the same prompt."""
        f = self.finding
        evidence = json.dumps(f.evidence, sort_keys=True, indent=1)
        parts = [
            f"<finding kind={f.kind!r} service={f.service!r} severity={f.severity!r}>",
            f"title: {f.title}",
            f"parent operation: {f.parent_operation}",
            f"operations: {', '.join(f.operations)}",
            f"estimated saving: {f.estimated_saving_ms_per_hour:g} ms per hour",
            f"suggested change: {f.suggested_change}",
            f"evidence: {evidence}",
            "</finding>",
            f"<repository language={self.stack.language!r}>",
            f"dependency files: {', '.join(self.stack.files) or 'none'}",
            f"libraries: {', '.join(self.stack.libraries) or 'unknown'}",
            f"allowed paths: {', '.join(self.config.allowed_paths)}; "
            f"never edit: {', '.join(self.config.denied_paths)}",
            f"largest diff accepted: {self.config.max_diff_lines} changed lines",
            "</repository>",
        ]
        for snippet in self.snippets:
            parts.append(
                f'<file path="{snippet.path}" first_line="{snippet.first_line}" why="{snippet.reason}">'
            )
            parts.append(snippet.text)
            parts.append("</file>")
        if not self.snippets:
            parts.append("<note>The code was not located; propose no edit you cannot anchor exactly.</note>")
        return redact("\n".join(parts))


def build_context(
    finding: Finding,
    locations: list[Location],
    source: RepoSource,
    stack: Stack,
    config: RepoConfig,
    max_chars: int = 60_000,
) -> Context:
    snippets: list[Snippet] = []
    used = 0
    seen_files: set[str] = set()
    for location in locations[:5]:
        text = source.read(location.path)
        if text is None or location.path in seen_files:
            continue
        lines = text.splitlines()
        if len(lines) <= SMALL_FILE_LINES:
            first, chunk = 1, text
            seen_files.add(location.path)
        else:
            first = max(1, location.start_line - SURROUNDING_LINES)
            last = min(len(lines), location.end_line + SURROUNDING_LINES)
            chunk = "\n".join(lines[first - 1 : last])
        if used + len(chunk) > max_chars:
            break
        used += len(chunk)
        snippets.append(Snippet(location.path, first, chunk, f"{location.function}: {location.reason}"))
    for path in stack.files:
        text = source.read(path) or ""
        if used + len(text) <= max_chars and path not in seen_files:
            used += len(text)
            snippets.append(Snippet(path, 1, text, "dependency file"))
    return Context(finding, tuple(locations), tuple(snippets), stack, config)
