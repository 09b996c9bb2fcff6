"""How the query layer talks SQL: bound parameters, validated values and enforced limits.

No caller value is ever formatted into SQL text. Values go through :class:`Params`, which binds them
server-side as ``{name:Type}``; the few things that cannot be parameters (aggregation functions, sort
orders) come from fixed tables in the modules that use them. Every statement ends with a ``SETTINGS``
clause from :class:`QueryLimits`, so the engine itself stops a query that runs too long or reads too
much, instead of the API hoping it will finish.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tsdev.core.query.errors import InvalidParameterError, QueryLimitExceededError
from tsdev.core.store import Store

_HEX = re.compile(r"^[0-9a-fA-F]+$")
_TIMEOUT_CODES = ("Code: 159.",)
_TOO_MANY_CODES = ("Code: 158.", "Code: 396.", "Code: 307.")
MAX_VALUE_LENGTH = 4096


@dataclass(frozen=True)
class QueryLimits:
    """What one query may cost. The defaults keep an interactive API responsive on one machine."""

    max_execution_time_s: float = 15.0
    max_rows_to_read: int = 5_000_000_000
    max_page_size: int = 1000
    max_trace_spans: int = 20_000

    def settings_clause(self, extra: str = "") -> str:
        """The ``SETTINGS`` clause of a statement; ``extra`` is a fixed text of further settings."""
        return (
            f" SETTINGS max_execution_time = {float(self.max_execution_time_s)},"
            " timeout_overflow_mode = 'throw',"
            f" max_rows_to_read = {int(self.max_rows_to_read)}, read_overflow_mode = 'throw'"
            + (f", {extra}" if extra else "")
        )


DEFAULT_LIMITS = QueryLimits()


class Params:
    """Collects bound values and hands out their ``{pN:Type}`` placeholders."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def bind(self, value: Any, type_name: str) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"{{{name}:{type_name}}}"

    def string(self, value: str) -> str:
        return self.bind(value, "String")

    def int64(self, value: int) -> str:
        return self.bind(int(value), "Int64")

    def nanos(self, value: int) -> str:
        """A DateTime64(9) expression for a nanosecond timestamp."""
        return f"fromUnixTimestamp64Nano({self.int64(value)})"

    def strings(self, values: Sequence[str]) -> str:
        return self.bind(list(values), "Array(String)")


def run(
    store: Store, sql: str, params: Params, limits: QueryLimits = DEFAULT_LIMITS, settings: str = ""
) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` under ``limits`` (and the fixed ``settings`` text, if any); limit violations
    become :class:`QueryLimitExceededError`."""
    try:
        return store.query_rows(sql + limits.settings_clause(settings), params.values)
    except Exception as exc:
        text = str(exc)
        if any(code in text for code in _TIMEOUT_CODES):
            raise QueryLimitExceededError(
                "max_execution_time",
                f"the query was stopped after {limits.max_execution_time_s:g} s;"
                " narrow the time range or add filters",
            ) from exc
        if any(code in text for code in _TOO_MANY_CODES):
            raise QueryLimitExceededError(
                "max_rows_to_read",
                f"the query would read more than {limits.max_rows_to_read} rows;"
                " narrow the time range or add filters",
            ) from exc
        raise


def page_size(value: int, parameter: str, limits: QueryLimits = DEFAULT_LIMITS) -> int:
    if value < 1 or value > limits.max_page_size:
        raise InvalidParameterError(parameter, f"must be between 1 and {limits.max_page_size}")
    return value


def normalize_trace_id(value: str, parameter: str = "trace_id") -> str:
    """Lower-case 32-digit hex; Jaeger's 16-digit (64-bit) ids are left-padded as Jaeger does."""
    text = value.strip().lower()
    if not _HEX.match(text) or len(text) > 32:
        raise InvalidParameterError(parameter, "a trace id is up to 32 hexadecimal digits")
    return text.rjust(32, "0")


def normalize_span_id(value: str, parameter: str = "span_id") -> str:
    text = value.strip().lower()
    if not _HEX.match(text) or len(text) > 16:
        raise InvalidParameterError(parameter, "a span id is up to 16 hexadecimal digits")
    return text.rjust(16, "0")


def checked_value(value: str, parameter: str) -> str:
    """A free-form filter value, refused only when absurdly long (it is bound, never spliced)."""
    if len(value) > MAX_VALUE_LENGTH:
        raise InvalidParameterError(parameter, f"longer than {MAX_VALUE_LENGTH} characters")
    return value


def parse_attribute_filters(items: Iterable[str], parameter: str) -> list[tuple[str, str]]:
    """``key=value`` pairs; the key may hold dots and the value anything (bound as a parameter)."""
    pairs = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidParameterError(parameter, f"{item!r} is not key=value")
        pairs.append((checked_value(key.strip(), parameter), checked_value(value, parameter)))
    return pairs


def ascii_lower(text: str) -> str:
    """Lower-case ASCII letters only, as ClickHouse's ``lower`` does, so needles match the index."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
