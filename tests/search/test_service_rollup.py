"""The services table reads hourly and minute rollups; its figures must equal the minute table's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.red import services_from_minutes
from tsdev.core.query import TimeRange
from tsdev.core.query import services as queries
from tsdev.core.query.services import minute_span, split_by_hour
from tsdev.core.store import MIGRATIONS, Store
from tsdev.core.store.client import Retention

NS = 1_000_000_000
ROLLUP_VERSION = 7
DAY_START = int(datetime(2026, 1, 1, 22, 0, tzinfo=UTC).timestamp())

# 600 spans over five hours across midnight (so over two partitions), one every 30 s, on three services,
# a third of them client spans; few enough per service that t-digest states are merged without being
# compressed, so the figures do not depend on how they were grouped.
SPANS = """
INSERT INTO {table} (Timestamp, TraceId, SpanId, SpanName, SpanKind, ServiceName, Duration, StatusCode)
SELECT
    fromUnixTimestamp64Nano(toInt64(({start} + number * 30) * 1000000000 + number * 7919)),
    lower(hex(cityHash64(number, 't'))),
    lower(hex(cityHash64(number, 's'))),
    concat('op-', toString(number % 4)),
    if(number % 3 = 0, 'Client', 'Server'),
    concat('svc-', toString(number % 3 + intDiv(number, 400))),
    (cityHash64(number, 'd') % 900 + 1) * 1000000,
    if(number % 17 = 0, 'Error', 'Unset')
FROM numbers(600)
"""


def _at(hours: float, extra_ns: int = 0) -> int:
    return round((DAY_START + hours * 3600) * NS) + extra_ns


RANGES = {
    "partial hours at both ends, across midnight": (_at(0.29), _at(4.7)),
    "whole hours only": (_at(1), _at(3)),
    "inside one hour": (_at(1.1), _at(1.9)),
    "ends one nanosecond past an hour": (_at(0.5), _at(2, 1)),
    "starts one nanosecond before an hour": (_at(1, -1), _at(2.5)),
    "less than a minute, across an hour": (_at(1, -NS // 2), _at(1, NS // 5)),
    "everything": (_at(-1), _at(6)),
    "after the data": (_at(7), _at(9)),
}


@pytest.fixture
def spans(fresh_store: Store) -> Store:
    fresh_store.command(SPANS.format(table=fresh_store.table("otel_traces"), start=DAY_START))
    return fresh_store


@pytest.mark.parametrize("bounds", RANGES.values(), ids=RANGES.keys())
def test_rollups_give_the_minute_tables_figures(spans: Store, bounds: tuple[int, int]) -> None:
    time_range = TimeRange(*bounds)
    expected = services_from_minutes(spans, time_range)
    assert queries.list_services(spans, time_range) == expected


def test_figures_are_those_of_the_spans(spans: Store) -> None:
    services = {s.name: s.red for s in queries.list_services(spans, TimeRange(_at(0), _at(5)))}
    rows = spans.query_rows(
        "SELECT ServiceName, countIf(SpanKind = 'Server'),"
        " countIf(SpanKind = 'Server' AND StatusCode = 'Error')"
        f" FROM {spans.table('otel_traces')} GROUP BY ServiceName"
    )
    assert ("svc-0", 0, 0) in rows  # a service with client spans only is listed too
    assert {name: (s.requests, s.errors) for name, s in services.items()} == {
        name: (count, errors) for name, count, errors in rows
    }


def test_rows_written_straight_to_the_minute_table_are_rolled_up(fresh_store: Store) -> None:
    minute = DAY_START + 3600 + 120
    fresh_store.command(
        f"INSERT INTO {fresh_store.table(queries.SERVICE_RED_1M)}"
        " (Minute, ServiceName, SpanName, SpanKind, Requests, Errors, DurationSum)"
        f" VALUES ({minute}, 'checkout', 'GET /', 'Server', 40, 2, 0)"
    )
    for bounds in ((_at(0), _at(4)), (_at(1), _at(1.1))):
        [stats] = queries.list_services(fresh_store, TimeRange(*bounds))
        assert (stats.name, stats.red.requests, stats.red.errors) == ("checkout", 40, 2)


def test_migration_rolls_up_the_minutes_stored_before_it(bare_store: Store) -> None:
    retention = Retention(traces_days=0, logs_days=0, metrics_days=0)
    bare_store.migrate(retention, [m for m in MIGRATIONS if m.version < ROLLUP_VERSION])
    bare_store.command(SPANS.format(table=bare_store.table("otel_traces"), start=DAY_START))
    bare_store.migrate(retention)
    time_range = TimeRange(*RANGES["partial hours at both ends, across midnight"])
    assert queries.list_services(bare_store, time_range) == services_from_minutes(bare_store, time_range)


def test_minute_span_covers_the_minutes_of_the_first_and_last_second() -> None:
    assert minute_span(TimeRange(3600 * NS + 59 * NS, 7200 * NS + 1)) == (3600, 7260)
    assert minute_span(TimeRange(3600 * NS, 7200 * NS)) == (3600, 7200)


@pytest.mark.parametrize(
    ("first", "end", "hours", "edges"),
    [
        (3600, 7200, (3600, 7200), []),
        (3540, 7260, (3600, 7200), [(3540, 3600), (7200, 7260)]),
        (3660, 7140, None, [(3660, 7140)]),
        (3660, 10800, (7200, 10800), [(3660, 7200)]),
        (3660, 3660, None, []),
    ],
)
def test_split_by_hour(
    first: int, end: int, hours: tuple[int, int] | None, edges: list[tuple[int, int]]
) -> None:
    assert split_by_hour(first, end) == (hours, edges)
