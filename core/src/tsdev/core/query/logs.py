"""Log search (newest first, keyset pages) and the live tail.

Free text is a list of terms and ``"quoted phrases"`` that must all occur in the body, ignoring ASCII
case. Each is split into the tokens the body index stores (runs of letters and digits); ``hasToken``
on every token lets the ``lower(Body)`` text index skip granules, and a substring test on the whole
term or phrase keeps the answer exact (``"connection refused"`` does not match ``refused connection``).
"""

# ruff: noqa: S608  # SQL is assembled from fixed fragments; every caller value is a bound {pN:Type}

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tsdev.core.query._sql import (
    DEFAULT_LIMITS,
    Params,
    QueryLimits,
    ascii_lower,
    checked_value,
    normalize_span_id,
    normalize_trace_id,
    page_size,
    run,
)
from tsdev.core.query.cursor import Cursor
from tsdev.core.query.errors import InvalidParameterError
from tsdev.core.query.timeparse import NS_PER_SECOND, TimeRange, now_ns
from tsdev.core.store import Store
from tsdev.core.store.tables import LOGS

SEVERITY_NUMBERS = {"trace": 1, "debug": 5, "info": 9, "warn": 13, "warning": 13, "error": 17, "fatal": 21}
_TOKEN = re.compile(r"[0-9A-Za-z\u0080-\U0010ffff]+")
_TERM = re.compile(r'"([^"]*)"|(\S+)')


@dataclass(frozen=True)
class LogRecord:
    time_ns: int
    trace_id: str
    span_id: str
    severity_text: str
    severity_number: int
    service_name: str
    body: str
    resource_attributes: dict[str, str]
    attributes: dict[str, str]
    scope_name: str
    event_name: str
    key: str


@dataclass(frozen=True)
class LogQuery:
    time_range: TimeRange
    text: str | None = None
    services: list[str] = field(default_factory=list)
    min_severity: int | None = None
    trace_id: str | None = None
    span_id: str | None = None
    attributes: list[tuple[str, str]] = field(default_factory=list)
    resource_attributes: list[tuple[str, str]] = field(default_factory=list)
    limit: int = 100
    cursor: Cursor | None = None


@dataclass(frozen=True)
class LogPage:
    records: list[LogRecord]
    next_cursor: str | None


def parse_severity(value: str, parameter: str = "severity") -> int:
    """A severity name (``warn``, ``ERROR``) or an OpenTelemetry severity number 1..24."""
    text = value.strip().lower()
    if text.isdigit() and 1 <= int(text) <= 24:
        return int(text)
    if text in SEVERITY_NUMBERS:
        return SEVERITY_NUMBERS[text]
    raise InvalidParameterError(
        parameter, f"{value!r} is not one of trace, debug, info, warn, error, fatal or 1..24"
    )


def search_terms(text: str) -> list[str]:
    """Terms and quoted phrases of a search string, lower-cased as the index sees them."""
    terms = []
    for phrase, word in _TERM.findall(text):
        term = ascii_lower(phrase or word).strip()
        if term:
            terms.append(term)
    return terms


def _text_conditions(text: str, params: Params) -> list[str]:
    conditions: list[str] = []
    for term in search_terms(checked_value(text, "q")):
        tokens = _TOKEN.findall(term)
        conditions.extend(f"hasToken(lower(Body), {params.string(token)})" for token in tokens)
        if tokens != [term]:
            conditions.append(f"position(lower(Body), {params.string(term)}) > 0")
    return conditions


_KEY = "toString(sipHash64(ServiceName, SpanId, SeverityNumber, Body))"
_COLUMNS = f"""
    toUnixTimestamp64Nano(Timestamp), TraceId, SpanId, SeverityText, SeverityNumber, ServiceName, Body,
    ResourceAttributes, LogAttributes, ScopeName, EventName, {_KEY} AS RowKey"""


def _record(row: tuple[Any, ...]) -> LogRecord:
    return LogRecord(
        time_ns=int(row[0]), trace_id=row[1], span_id=row[2], severity_text=row[3],
        severity_number=int(row[4]), service_name=row[5], body=row[6], resource_attributes=dict(row[7]),
        attributes=dict(row[8]), scope_name=row[9], event_name=row[10], key=row[11],
    )  # fmt: skip


def _filters(query: LogQuery, params: Params, time_range: TimeRange) -> list[str]:
    start, end = time_range.start_ns, time_range.end_ns
    where = [
        f"Timestamp >= {params.nanos(start)}",
        f"Timestamp < {params.nanos(end)}",
        # the partition key is on this whole-second column, so bound it too for partition pruning
        f"TimestampTime >= toDateTime({params.int64(start // NS_PER_SECOND)})",
        f"TimestampTime <= toDateTime({params.int64(end // NS_PER_SECOND)})",
    ]
    if query.services:
        services = [checked_value(service, "service") for service in query.services]
        where.append(f"ServiceName IN {params.strings(services)}")
    if query.min_severity is not None:
        where.append(f"SeverityNumber >= {params.int64(query.min_severity)}")
    if query.trace_id:
        where.append(f"TraceId = {params.string(normalize_trace_id(query.trace_id))}")
    if query.span_id:
        where.append(f"SpanId = {params.string(normalize_span_id(query.span_id))}")
    for key, value in query.attributes:
        where.append(f"LogAttributes[{params.string(key)}] = {params.string(value)}")
    for key, value in query.resource_attributes:
        where.append(f"ResourceAttributes[{params.string(key)}] = {params.string(value)}")
    if query.text:
        where.extend(_text_conditions(query.text, params))
    return where


def search_logs(store: Store, query: LogQuery, limits: QueryLimits = DEFAULT_LIMITS) -> LogPage:
    """Records matching ``query``, newest first, one page at a time."""
    size = page_size(query.limit, "limit", limits)
    params = Params()
    where = _filters(query, params, query.time_range)
    if query.cursor is not None:
        at = params.int64(query.cursor.time_ns)
        where.append(f"Timestamp <= fromUnixTimestamp64Nano({at})")
        where.append(
            f"(toUnixTimestamp64Nano(Timestamp) < {at} OR RowKey < {params.string(query.cursor.tiebreak)})"
        )
    sql = f"""
        SELECT {_COLUMNS}
        FROM {store.table(LOGS)}
        WHERE {" AND ".join(where)}
        ORDER BY Timestamp DESC, RowKey DESC
        LIMIT {params.int64(size + 1)}"""
    rows = run(store, sql, params, limits)
    records = [_record(row) for row in rows[:size]]
    more = len(rows) > size
    next_cursor = Cursor(records[-1].time_ns, records[-1].key).encode() if more and records else None
    return LogPage(records, next_cursor)


class LogTail:
    """New records matching a query, oldest first, each delivered once.

    Records are found by their own timestamp, so each poll looks back ``grace_ns`` before the newest
    time already delivered: a record acknowledged a moment after a newer one (another client, a
    batch) still shows up. Keys of delivered records inside that window are remembered so none
    repeats. Records timestamped before the tail started (replays of old data) are not live and are
    not shown."""

    def __init__(
        self,
        store: Store,
        query: LogQuery,
        *,
        grace_ns: int = 5 * NS_PER_SECOND,
        batch: int = 1000,
        limits: QueryLimits = DEFAULT_LIMITS,
        start_ns: int | None = None,
    ) -> None:
        self._store = store
        self._query = query
        self._grace_ns = grace_ns
        self._batch = batch
        self._limits = limits
        self._floor = (now_ns() if start_ns is None else start_ns) - grace_ns
        self._watermark = self._floor
        self._seen: dict[str, int] = {}

    def poll(self) -> list[LogRecord]:
        low = max(self._floor, self._watermark - self._grace_ns)
        params = Params()
        window = TimeRange(low, max(now_ns(), self._watermark) + 3600 * NS_PER_SECOND)
        where = _filters(self._query, params, window)
        sql = f"""
            SELECT {_COLUMNS}
            FROM {self._store.table(LOGS)}
            WHERE {" AND ".join(where)}
            ORDER BY Timestamp, RowKey
            LIMIT {params.int64(self._batch)}"""
        fresh = [
            record
            for record in map(_record, run(self._store, sql, params, self._limits))
            if self._identity(record) not in self._seen
        ]
        self._remember(fresh)
        return fresh

    @staticmethod
    def _identity(record: LogRecord) -> str:
        return f"{record.time_ns}:{record.key}"

    def _remember(self, records: Iterable[LogRecord]) -> None:
        for record in records:
            self._seen[self._identity(record)] = record.time_ns
            self._watermark = max(self._watermark, record.time_ns)
        horizon = self._watermark - self._grace_ns
        self._seen = {key: ts for key, ts in self._seen.items() if ts >= horizon}
