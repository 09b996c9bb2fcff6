"""Whole traces are read from the projection of ``otel_traces`` ordered by trace id (migration 9), and
a lookup returns every span whether its part has the projection yet or not."""

from __future__ import annotations

from tests.support.recording import RecordingStore
from tests.support.rows import stored_span_ids
from tsdev.core.query import traces as queries
from tsdev.core.store import MIGRATIONS, Store
from tsdev.core.store.client import Retention
from tsdev.core.store.tables import SPANS_BY_TRACE_ID, TRACES

PROJECTION_VERSION = 9
RETENTION = Retention(traces_days=0, logs_days=0, metrics_days=0)
START_NS = 1_767_304_800 * 1_000_000_000

# Traces of 8 spans on four services with 20 operations, so that the table's own order (service,
# operation, time) scatters each trace over many granules of 8192 rows.
SPANS = """
INSERT INTO {table} (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName,
                     Duration, StatusCode)
SELECT
    fromUnixTimestamp64Nano(toInt64({start} + intDiv(number, 8) * 50000000 + (number % 8) * 1000000)),
    lower(leftPad(hex(cityHash64(intDiv(number, 8), 'trace')), 32, '0')),
    lower(leftPad(hex(cityHash64(number, 'span')), 16, '0')),
    if(number % 8 = 0, '', lower(leftPad(hex(cityHash64(number - number % 8, 'span')), 16, '0'))),
    concat('op-', toString(cityHash64(number, 'op') % 20)),
    if(number % 8 = 0, 'Server', 'Client'),
    concat('svc-', toString(number % 4)),
    1000000,
    'Unset'
FROM numbers({first}, {count})
"""


def _insert(store: Store, first: int, count: int) -> None:
    store.command(SPANS.format(table=store.table(TRACES), start=START_NS, first=first, count=count))


def _trace_id(store: Store, number: int) -> str:
    rows = store.query_rows(
        "SELECT lower(leftPad(hex(cityHash64(toUInt64({n:UInt64}), 'trace')), 32, '0'))", {"n": number}
    )
    return str(rows[0][0])


def _materialize(store: Store) -> None:
    """Waits for the projection in every part (the migration's own mutation does not wait)."""
    store.command(
        f"ALTER TABLE {store.table(TRACES)} MATERIALIZE PROJECTION {SPANS_BY_TRACE_ID}"
        " SETTINGS mutations_sync = 1"
    )


def _parts_with_projection(store: Store) -> int:
    rows = store.query_rows(
        "SELECT count() FROM system.projection_parts WHERE database = {db:String} AND table = {t:String}"
        " AND name = {p:String} AND active",
        {"db": store.database, "t": TRACES, "p": SPANS_BY_TRACE_ID},
    )
    return int(rows[0][0])


def test_lookup_by_id_reads_the_projection(fresh_store: Store) -> None:
    _insert(fresh_store, 0, 80_000)
    trace_id = _trace_id(fresh_store, 4321)
    recording = RecordingStore(fresh_store)
    trace = queries.get_trace(recording, trace_id)  # type: ignore[arg-type]
    assert trace is not None
    assert [span.span_id for span in trace.spans] == stored_span_ids(fresh_store, trace_id)
    assert len(trace.spans) == 8

    spans_sql, params = recording.statements[-1]
    explained = fresh_store.query_rows("EXPLAIN indexes = 1, projections = 1 " + spans_sql, params)
    plan = "\n".join(line for (line,) in explained)
    assert f"ReadFromMergeTree ({SPANS_BY_TRACE_ID})" in plan


def test_spans_stored_before_the_migration_are_found_with_or_without_projection(bare_store: Store) -> None:
    bare_store.migrate(RETENTION, [m for m in MIGRATIONS if m.version < PROJECTION_VERSION])
    # Trace 4999 straddles the projection: four spans in a part written before it, four after. Only the
    # projection's definition is added at first, as when the migration's mutation has not yet reached
    # the older part.
    _insert(bare_store, 0, 39_996)
    straddling = 4_999
    add_projection = next(m for m in MIGRATIONS if m.version == PROJECTION_VERSION).tables[0]
    bare_store.command(str(add_projection.statement).format(db=bare_store.database))
    _insert(bare_store, 39_996, 20_004)
    assert _parts_with_projection(bare_store) == 1

    for number in (17, straddling, 7_000):
        trace_id = _trace_id(bare_store, number)
        trace = queries.get_trace(bare_store, trace_id)
        assert trace is not None
        assert [span.span_id for span in trace.spans] == stored_span_ids(bare_store, trace_id)

    bare_store.migrate(RETENTION)
    _materialize(bare_store)
    assert _parts_with_projection(bare_store) >= 2
    for number in (17, straddling, 7_000):
        trace_id = _trace_id(bare_store, number)
        trace = queries.get_trace(bare_store, trace_id)
        assert trace is not None
        assert len(trace.spans) == 8
        assert [span.span_id for span in trace.spans] == stored_span_ids(bare_store, trace_id)
