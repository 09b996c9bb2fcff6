"""Where in the repository a finding's code is.

First from what the spans said (``code.function`` / ``code.function.name``, ``code.filepath`` /
``code.file.path``, ``code.lineno`` / ``code.line.number``, gathered into the finding's
``code_location`` or passed as hints by the caller who read the example traces); failing that, by
searching the Python files for what the operation names: a function of that name, a route or URL
template, a SQL statement (the statement itself, then its tables in the clauses of its verb, so a
``SELECT ... FROM t`` is not taken for the ``INSERT INTO t`` that fills the table). Each match is
widened to its enclosing function, since every fix the advisor makes (decorate, gather, batch) works
on a function.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tsdev.advisor.source import RepoSource
from tsdev.analysis.findings import Finding

_IDENTIFIER = re.compile(r"^[A-Za-z_][\w.]*$")
_HTTP = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+(\S+)$", re.IGNORECASE)
_SQL_TABLE = re.compile(r"(?i)\b(?:FROM|INTO|UPDATE|JOIN)\s+[`\"]?([A-Za-z_][\w.]*)")
_SQL_CLAUSES = {
    "SELECT": "FROM|JOIN",
    "WITH": "FROM|JOIN",
    "DELETE": "FROM",
    "INSERT": "INTO",
    "REPLACE": "INTO",
    "UPDATE": "UPDATE",
}
"""The clauses naming the tables a statement of each verb touches; other verbs: all of them."""


@dataclass(frozen=True)
class CodeHint:
    """What a span's ``code.*`` attributes say (any field may be empty)."""

    function: str = ""
    filepath: str = ""
    lineno: int | None = None


@dataclass(frozen=True)
class Location:
    path: str
    function: str
    """Bare function name (``load`` for ``Catalog.load``)."""
    start_line: int
    end_line: int
    is_async: bool
    reason: str
    """How it was found, for the PR body and for a person checking the advisor's work."""


def locate(finding: Finding, source: RepoSource, hints: Sequence[CodeHint] = ()) -> list[Location]:
    """Candidate functions, best first, without duplicates."""
    python_files = [p for p in source.list_files() if p.endswith(".py")]
    found: list[Location] = []
    for hint in (*hints, *_evidence_hints(finding)):
        found += _from_hint(hint, python_files, source)
    for term in _search_terms(finding):
        found += _search(term, python_files, source)
    unique: dict[tuple[str, str, int], Location] = {}
    for location in found:
        unique.setdefault((location.path, location.function, location.start_line), location)
    return list(unique.values())


def functions(text: str) -> list[tuple[str, int, int, bool]]:
    """``(name, first line including decorators, last line, is async)`` of every function."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    result = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            end = node.end_lineno or node.lineno
            result.append((node.name, first, end, isinstance(node, ast.AsyncFunctionDef)))
    return result


def _evidence_hints(finding: Finding) -> list[CodeHint]:
    raw = finding.evidence.get("code_location")
    if not isinstance(raw, dict):
        return []
    line = raw.get("lineno")
    return [
        CodeHint(
            function=str(raw.get("function") or ""),
            filepath=str(raw.get("filepath") or ""),
            lineno=int(line) if isinstance(line, int | float) else None,
        )
    ]


def _from_hint(hint: CodeHint, files: list[str], source: RepoSource) -> list[Location]:
    name = hint.function.rsplit(".", 1)[-1]
    candidates = files
    if hint.filepath:
        path = hint.filepath.replace("\\", "/")
        candidates = [f for f in files if path.endswith("/" + f) or path == f or f.endswith(path.lstrip("/"))]
        if not candidates:  # the deployed path differs from the repository's: try the longest suffix
            tail = "/".join(path.split("/")[-2:])
            candidates = [f for f in files if f.endswith(tail)]
    found = []
    for path in candidates:
        text = source.read(path)
        if text is None:
            continue
        for fname, start, end, is_async in functions(text):
            by_name = bool(name) and fname == name
            by_line = hint.lineno is not None and start <= hint.lineno <= end and not name
            if by_name or by_line:
                found.append(Location(path, fname, start, end, is_async, "code.* attributes of the spans"))
    return found


def _search_terms(finding: Finding) -> list[str]:
    """The kind decides which operation names the function to change: the step itself for retries
    and caches; the parent (which makes the calls) for parallel and N+1 fixes, then the calls."""
    if finding.kind in ("flaky_step", "cacheable"):
        terms = [*finding.operations]
        if finding.parent_operation not in ("", "*"):
            terms.append(finding.parent_operation)
        return terms
    return [finding.parent_operation, *finding.operations]


def _search(term: str, files: list[str], source: RepoSource) -> list[Location]:
    term = term.strip()
    if not term:
        return []
    patterns: list[tuple[re.Pattern[str], str]] = []
    if _IDENTIFIER.match(term):
        name = re.escape(term.rsplit(".", 1)[-1])
        patterns.append((re.compile(rf"^\s*(?:async\s+)?def\s+{name}\s*\("), f"function named {term}"))
    http = _HTTP.match(term)
    if http:
        patterns.append((_template_pattern(http.group(2)), f"route or URL {http.group(2)}"))
    elif " " in term:
        patterns += _sql_patterns(term)
    if not patterns and "/" in term:
        patterns.append((_template_pattern(term), f"URL {term}"))
    if not patterns:
        return []
    texts = [(path, text) for path in files if (text := source.read(path)) is not None]
    parsed = [(path, text.splitlines(), functions(text)) for path, text in texts]
    found = []
    for pattern, reason in patterns:  # strongest pattern first, across all files
        for path, lines, spans in parsed:
            for number in _matching_lines(lines, pattern):
                inside = _enclosing(path, spans, number, reason)
                found += inside or _users_of_constant(path, lines, spans, number, reason)
    return found


def _sql_patterns(statement: str) -> list[tuple[re.Pattern[str], str]]:
    """The statement's own text (any whitespace between its words), then each table it names, in the
    clauses its verb uses; nothing when ``statement`` names no table (it is not SQL)."""
    tables = list(dict.fromkeys(_SQL_TABLE.findall(statement)))
    if not tables:
        return []
    words = statement.split()
    own = r"\s+".join(re.escape(word) for word in words)
    patterns = [(re.compile(own, re.IGNORECASE), "the SQL statement")]
    clauses = _SQL_CLAUSES.get(words[0].upper(), "FROM|INTO|UPDATE|JOIN")
    for table in tables:
        patterns.append((re.compile(rf"(?i)\b(?:{clauses})\s+[`\"]?{re.escape(table)}\b"), f"SQL on {table}"))
    return patterns


def _users_of_constant(
    path: str, lines: list[str], spans: list[tuple[str, int, int, bool]], line: int, reason: str
) -> list[Location]:
    """A match outside any function, in ``NAME = "..."``: the functions of the file that use NAME
    (a URL template or a statement kept in a module constant is the usual case)."""
    assigned = re.match(r"^([A-Za-z_]\w*)\s*(?::[^=]+)?=", lines[line - 1])
    if assigned is None:
        return []
    name = re.compile(rf"\b{assigned.group(1)}\b")
    found = []
    for number in _matching_lines(lines, name):
        if number != line:
            found += _enclosing(path, spans, number, f"{reason}, through {assigned.group(1)}")
    return found


def _template_pattern(url: str) -> re.Pattern[str]:
    """A URL template (``host/users/{id}``) as a pattern over source text: the path part, with
    placeholders matching a route parameter, an f-string field or a literal value."""
    path = url.split("://", 1)[-1]
    if not path.startswith("/"):
        path = "/" + path.split("/", 1)[1] if "/" in path else path
    parts = re.split(r"(\{[^}]*\})", path.split("?", 1)[0].rstrip("/"))
    regex = "".join(r"(?:\{[^}]*\}|[^/\"'\s]+)" if p.startswith("{") else re.escape(p) for p in parts if p)
    return re.compile(regex)


def _matching_lines(lines: Iterable[str], pattern: re.Pattern[str]) -> list[int]:
    return [i for i, line in enumerate(lines, start=1) if pattern.search(line)]


def _enclosing(path: str, spans: list[tuple[str, int, int, bool]], line: int, reason: str) -> list[Location]:
    """The innermost function containing ``line`` (a decorator line counts as inside)."""
    containing = [s for s in spans if s[1] <= line <= s[2]]
    if not containing:
        return []
    name, start, end, is_async = min(containing, key=lambda s: s[2] - s[1])
    return [Location(path, name, start, end, is_async, reason)]
