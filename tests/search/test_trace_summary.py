"""Trace lookups and search summaries read ``tsdev_trace_summary``; both must match the spans."""

from __future__ import annotations

import pytest

from tests.support.rows import stored_span_ids
from tsdev.core.query import traces as queries
from tsdev.core.query.traces import TraceSummary
from tsdev.core.store import MIGRATIONS, Store
from tsdev.core.store.client import Retention

SUMMARY_VERSION = 8
START_NS = 1_767_304_800 * 1_000_000_000  # 2026-01-01 22:00 UTC

# 40 traces of 1 to 12 spans on up to four services, crossing midnight. Traces 3k have no root span
# (their last span starts first and stands for the root); in traces 3k+1 a child starts before the
# root. Inserted in two halves, so that most traces have two summary rows (one per insert) to merge.
SPANS = """
INSERT INTO {table} (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName,
                     Duration, StatusCode)
SELECT
    fromUnixTimestamp64Nano(toInt64({start} + intDiv(number, 12) * 197000000000 + 3000017 * multiIf(
        intDiv(number, 12) % 3 = 0, 11 - number % 12,
        intDiv(number, 12) % 3 = 1 AND number % 12 = 0, 2,
        number % 12))),
    lower(leftPad(hex(cityHash64(intDiv(number, 12), 'trace')), 32, '0')),
    lower(hex(cityHash64(number, 'span'))),
    if(number % 12 = 0 AND intDiv(number, 12) % 3 != 0, '', lower(hex(cityHash64(number - 1, 'span')))),
    concat('op-', toString(cityHash64(number, 'op') % 5)),
    if(number % 12 = 0, 'Server', 'Client'),
    concat('svc-', toString((intDiv(number, 12) + number % 12) % 4)),
    (cityHash64(number, 'duration') % 400 + 1) * 1000000,
    if(cityHash64(number, 'error') % 7 = 0, 'Error', 'Unset')
FROM numbers(480)
WHERE number % 12 < intDiv(number, 12) % 12 + 1 AND (number % 12) % 2 = {half}
"""


def _insert(store: Store) -> list[str]:
    for half in (0, 1):
        store.command(SPANS.format(table=store.table("otel_traces"), start=START_NS, half=half))
    rows = store.query_rows(f"SELECT DISTINCT TraceId FROM {store.table('otel_traces')} ORDER BY TraceId")
    return [row[0] for row in rows]


def _from_spans(store: Store, trace_ids: list[str]) -> dict[str, TraceSummary]:
    """The summaries computed from the spans themselves, as search did before the summary table."""
    rows = store.query_rows(
        f"""
        SELECT
            TraceId,
            toUnixTimestamp64Nano(min(Timestamp)) AS start_ns,
            max(toUnixTimestamp64Nano(Timestamp) + Duration) - start_ns,
            count(),
            countIf(StatusCode = 'Error'),
            arraySort(groupUniqArray(ServiceName)),
            if(countIf(ParentSpanId = '') > 0, argMinIf(ServiceName, Timestamp, ParentSpanId = ''),
               argMin(ServiceName, Timestamp)),
            if(countIf(ParentSpanId = '') > 0, argMinIf(SpanName, Timestamp, ParentSpanId = ''),
               argMin(SpanName, Timestamp))
        FROM {store.table("otel_traces")}
        WHERE TraceId IN {{ids:Array(String)}}
        GROUP BY TraceId""",
        {"ids": trace_ids},
    )
    return {
        row[0]: TraceSummary(row[0], row[6], row[7], int(row[1]), int(row[2]), row[3], row[4], list(row[5]))
        for row in rows
    }


@pytest.fixture
def stored(fresh_store: Store) -> tuple[Store, list[str]]:
    return fresh_store, _insert(fresh_store)


def test_summaries_are_those_of_the_spans(stored: tuple[Store, list[str]]) -> None:
    store, trace_ids = stored
    summaries = queries.summarize_traces(store, trace_ids)
    assert len(summaries) == 40
    assert summaries == _from_spans(store, trace_ids)


def test_trace_by_id_returns_every_span_in_start_order(stored: tuple[Store, list[str]]) -> None:
    store, trace_ids = stored
    for trace_id in trace_ids:
        trace = queries.get_trace(store, trace_id)
        assert trace is not None
        assert [span.span_id for span in trace.spans] == stored_span_ids(store, trace_id)
        assert {span.service_name for span in trace.spans} == set(
            queries.summarize_traces(store, [trace_id])[trace_id].services
        )


def test_several_traces_at_once(stored: tuple[Store, list[str]]) -> None:
    store, trace_ids = stored
    wanted = [trace_ids[5], "0" * 31 + "1", trace_ids[0], trace_ids[39]]
    traces = queries.get_traces(store, wanted)
    assert [t.trace_id for t in traces] == [trace_ids[5], trace_ids[0], trace_ids[39]]
    for trace in traces:
        assert [span.span_id for span in trace.spans] == stored_span_ids(store, trace.trace_id)


def test_absent_trace(stored: tuple[Store, list[str]]) -> None:
    store, _ = stored
    assert queries.get_trace(store, "ab" * 16) is None
    assert queries.summarize_traces(store, ["ab" * 16]) == {}


def test_migration_summarizes_the_spans_stored_before_it(bare_store: Store) -> None:
    retention = Retention(traces_days=0, logs_days=0, metrics_days=0)
    bare_store.migrate(retention, [m for m in MIGRATIONS if m.version < SUMMARY_VERSION])
    trace_ids = _insert(bare_store)
    bare_store.migrate(retention)
    assert queries.summarize_traces(bare_store, trace_ids) == _from_spans(bare_store, trace_ids)
    trace = queries.get_trace(bare_store, trace_ids[17])
    assert trace is not None
    assert [span.span_id for span in trace.spans] == stored_span_ids(bare_store, trace_ids[17])
