"""Normalization of database statements and HTTP calls into operation signatures.

Detectors compare operations ("the same query", "the same endpoint"), and fingerprints hash them,
so values that differ per request are replaced first: ``SELECT * FROM users WHERE id = 42`` and
``... id = 7`` are one operation; ``GET https://api/users/42?full=1`` and ``.../users/7?full=0`` are
``GET api/users/{id}?full=?``. Everything is a polars expression so a million spans normalize in a
few vectorized passes; :func:`normalize_sql` and :func:`http_template` apply the same expressions to
one value, for tests and callers outside a frame.

SQL: comments dropped, string and numeric literals and bind placeholders (``$1``, ``%s``,
``%(name)s``, ``:name``, ``@p1``) become ``?``, ``IN (?, ?, ...)`` becomes ``IN (?)``, a ``VALUES``
list of any length becomes ``VALUES (?)``, whitespace collapses.

HTTP: method upper-cased, scheme, user info and fragment dropped, path segments that are numbers
(``{id}``), UUIDs (``{uuid}``) or hex strings of 8 digits or more (``{hex}``) replaced, and every
query value replaced by ``?`` (names kept).
"""

from __future__ import annotations

import polars as pl

_STRING_LITERAL = r"'(?:[^']|'')*'"
_NUMBER = r"(?i)\b(?:0x[0-9a-f]+|\d+(?:\.\d+)?(?:e[+-]?\d+)?)\b"
_PLACEHOLDERS = r"\$\d+|%\(\w+\)s|%s|@\w+"
_NAMED_PLACEHOLDER = r"([^:\w]):[A-Za-z_]\w*"
_IN_LIST = r"(?i)\bIN\s*\(\s*\?(?:\s*,\s*\?)*\s*\)"
_VALUES_LIST = r"(?i)\bVALUES\s*\([^()]*\)(?:\s*,\s*\([^()]*\))*"
_PLACEHOLDER_PRESENT = r"\?|\$\d+|%\(\w+\)s|%s|[^:\w]:[A-Za-z_]\w*|@\w+"

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_SEGMENT_END = r"(/|$)"

TRUNCATION_SUFFIXES = ("...", "\u2026")
"""Instrumentations that cap statement length end the text with one of these."""


def sql_expr(statement: pl.Expr) -> pl.Expr:
    """The normalized form of a SQL statement column."""
    return (
        statement.str.replace_all(r"(?s)/\*.*?\*/", " ")
        .str.replace_all(r"--[^\n]*", " ")
        .str.replace_all(_STRING_LITERAL, "?")
        .str.replace_all(_PLACEHOLDERS, "?")
        .str.replace_all(_NAMED_PLACEHOLDER, "${1}?")
        .str.replace_all(_NUMBER, "?")
        .str.replace_all(_IN_LIST, "IN (?)")
        .str.replace_all(_VALUES_LIST, "VALUES (?)")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def sql_values_expr(statement: pl.Expr) -> pl.Expr:
    """The literal values of a statement (strings without quotes, numbers), in order."""
    unbound = statement.str.replace_all(_PLACEHOLDERS, "?")
    return unbound.str.extract_all(rf"{_STRING_LITERAL}|{_NUMBER}").list.eval(
        pl.element().str.strip_chars("'")
    )


def sql_has_placeholders_expr(statement: pl.Expr) -> pl.Expr:
    """Whether the statement binds values the span does not show (so equal text is not equal values)."""
    return statement.str.replace_all(_STRING_LITERAL, "''").str.contains(_PLACEHOLDER_PRESENT)


def sql_verb_expr(statement: pl.Expr) -> pl.Expr:
    """The statement's first keyword, upper-cased (``SELECT``, ``INSERT``, ``WITH``...)."""
    return (
        statement.str.extract(r"^\s*(?:/\*.*?\*/\s*)*\(?\s*([A-Za-z]+)", 1).str.to_uppercase().fill_null("")
    )


def sql_tables_expr(statement: pl.Expr) -> pl.Expr:
    """Tables named after ``FROM``, ``JOIN``, ``INTO`` or ``UPDATE``, lower-case, quotes stripped."""
    return statement.str.extract_all(
        r"(?i)\b(?:FROM|JOIN|INTO|UPDATE)\s+[A-Za-z_\"`\[][\w.\"`\[\]]*"
    ).list.eval(
        pl.element()
        .str.replace(r"(?i)^(?:FROM|JOIN|INTO|UPDATE)\s+", "")
        .str.replace_all(r"[\"`\[\]]", "")
        .str.to_lowercase()
    )


def is_truncated_expr(statement: pl.Expr) -> pl.Expr:
    """Whether an instrumentation cut the statement short (its normal form would be wrong)."""
    trimmed = statement.str.strip_chars_end()
    return trimmed.str.ends_with(TRUNCATION_SUFFIXES[0]) | trimmed.str.ends_with(TRUNCATION_SUFFIXES[1])


def _url_parts(url: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """``host/path`` and the raw query string of a URL."""
    bare = (
        url.str.replace(r"^[A-Za-z][A-Za-z0-9+.\-]*://", "")
        .str.replace(r"^[^@/]*@", "")
        .str.replace(r"#.*$", "")
    )
    return bare.str.replace(r"\?.*$", ""), bare.str.extract(r"\?(.*)$", 1).fill_null("")


def url_template_expr(url: pl.Expr) -> pl.Expr:
    """``host/path?name=?`` with variable path segments and query values replaced."""
    path, query = _url_parts(url)
    for pattern, name in ((_UUID, "{uuid}"), (r"\d+", "{id}"), (r"[0-9a-fA-F]{8,}", "{hex}")):
        # A match consumes the slash after it, so adjacent segments need a second pass.
        for _ in range(2):
            path = path.str.replace_all(f"/{pattern}{_SEGMENT_END}", f"/{name}${{1}}")
    query = query.str.replace_all(r"=[^&]*", "=?")
    return pl.when(query == "").then(path).otherwise(pl.concat_str(path, pl.lit("?"), query))


def http_template_expr(method: pl.Expr, url: pl.Expr) -> pl.Expr:
    """``METHOD host/path-template`` for an HTTP client call."""
    return pl.concat_str(method.str.to_uppercase(), pl.lit(" "), url_template_expr(url))


def url_values_expr(url: pl.Expr) -> pl.Expr:
    """The variable parts of a URL: id-like path segments and query values, in order."""
    path, query = _url_parts(url)
    segments = path.str.split("/").list.eval(
        pl.element().filter(pl.element().str.contains(rf"^(?:{_UUID}|\d+|[0-9a-fA-F]{{8,}})$"))
    )
    values = query.str.extract_all(r"=[^&]*").list.eval(pl.element().str.slice(1))
    return segments.list.concat(values)


def _apply(expr: pl.Expr, value: str) -> str:
    return str(pl.DataFrame({"v": [value]}).select(expr).item())


def normalize_sql(statement: str) -> str:
    """:func:`sql_expr` applied to one statement."""
    return _apply(sql_expr(pl.col("v")), statement)


def http_template(method: str, url: str) -> str:
    """:func:`http_template_expr` applied to one call."""
    return str(
        pl.DataFrame({"m": [method], "u": [url]}).select(http_template_expr(pl.col("m"), pl.col("u"))).item()
    )
