"""The query layer: every read the API and CLI make, as functions over a :class:`~tsdev.core.store.Store`.

Routes stay free of SQL; these functions validate what callers send, bind it as parameters, bound
every query in rows and time, and return plain dataclasses.
"""

from tsdev.core.query._sql import (
    DEFAULT_LIMITS,
    QueryLimits,
    normalize_span_id,
    normalize_trace_id,
    parse_attribute_filters,
)
from tsdev.core.query.cursor import Cursor
from tsdev.core.query.errors import InvalidParameterError, QueryError, QueryLimitExceededError
from tsdev.core.query.timeparse import TimeRange, format_time, parse_duration, parse_time

__all__ = [
    "DEFAULT_LIMITS",
    "Cursor",
    "InvalidParameterError",
    "QueryError",
    "QueryLimitExceededError",
    "QueryLimits",
    "TimeRange",
    "format_time",
    "normalize_span_id",
    "normalize_trace_id",
    "parse_attribute_filters",
    "parse_duration",
    "parse_time",
]
