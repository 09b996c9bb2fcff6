"""The job runner against a real store: windows, idempotency, upserts and the watermark."""

from __future__ import annotations

from tests.jobs.support import N_PLUS_ONE, S, loops, store_traces, window
from tests.support.spans import BASE_NS, trace_id
from tsdev.analysis.jobs import analyze_window, repository, run_incremental, split
from tsdev.analysis.jobs.records import Window
from tsdev.core.store import Store


def _rows(store: Store) -> int:
    return int(store.query_rows(f"SELECT count() FROM {store.table('tsdev_findings')} FINAL")[0][0])


def test_a_window_stores_what_the_detectors_find(fresh_store: Store) -> None:
    store_traces(fresh_store, loops(1, 10, at_s=10))
    summary = analyze_window(fresh_store, window(0, 600))
    assert (summary.spans, summary.traces) == (80, 10)
    assert N_PLUS_ONE in summary.new
    record = repository.get(fresh_store, N_PLUS_ONE)
    assert record is not None
    assert (record.kind, record.service, record.status) == ("n_plus_one", "shop", "open")
    assert (record.times_seen, record.traces_affected) == (1, 10)
    assert record.service_versions == ("1.0.0",)
    assert record.operations == ("SELECT * FROM items WHERE order_id = ?",)
    assert record.example_trace_ids[0] in {trace_id(n) for n in range(1, 11)}
    assert record.first_seen_ns == BASE_NS + 10 * S
    assert record.estimated_saving_ms_per_hour > 0


def test_a_window_without_spans_finds_nothing(fresh_store: Store) -> None:
    summary = analyze_window(fresh_store, window(0, 600))
    assert (summary.spans, summary.new, summary.findings) == (0, [], [])
    assert _rows(fresh_store) == 0


def test_rerunning_a_window_changes_no_count_and_adds_no_row(fresh_store: Store) -> None:
    store_traces(fresh_store, loops(1, 10, at_s=10))
    first = analyze_window(fresh_store, window(0, 600))
    before = repository.get(fresh_store, N_PLUS_ONE)
    second = analyze_window(fresh_store, window(0, 600))
    after = repository.get(fresh_store, N_PLUS_ONE)
    assert second.new == [] and N_PLUS_ONE in second.updated
    assert before is not None and after is not None
    assert before.replace(version=0) == after.replace(version=0)
    assert _rows(fresh_store) == len(first.findings)


def test_an_overlapping_pass_keeps_the_larger_count_instead_of_adding(fresh_store: Store) -> None:
    store_traces(fresh_store, loops(1, 10, at_s=10))
    analyze_window(fresh_store, window(0, 600))
    analyze_window(fresh_store, window(5, 300))
    record = repository.get(fresh_store, N_PLUS_ONE)
    assert record is not None
    assert (record.times_seen, record.traces_affected) == (1, 10)
    assert (record.counted_from_ns, record.counted_until_ns) == (
        window(0, 600).start_ns,
        window(0, 600).end_ns,
    )


def test_a_later_window_adds_counts_and_moves_last_seen(fresh_store: Store) -> None:
    store_traces(fresh_store, loops(1, 10, at_s=10) + loops(101, 6, at_s=1000))
    analyze_window(fresh_store, window(0, 600))
    first = repository.get(fresh_store, N_PLUS_ONE)
    summary = analyze_window(fresh_store, window(600, 1200))
    later = repository.get(fresh_store, N_PLUS_ONE)
    assert N_PLUS_ONE in summary.updated
    assert first is not None and later is not None
    assert (later.times_seen, later.traces_affected) == (2, 16)
    assert later.first_seen_ns == first.first_seen_ns
    assert later.last_seen_ns > first.last_seen_ns >= BASE_NS + 19 * S
    assert later.status == "open"


def test_split_cuts_a_range_into_consecutive_windows() -> None:
    assert split(Window(0, 5 * S), max_window_s=2) == [
        Window(0, 2 * S),
        Window(2 * S, 4 * S),
        Window(4 * S, 5 * S),
    ]
    assert split(Window(0, S), max_window_s=3600) == [Window(0, S)]


def test_the_incremental_job_resumes_from_its_watermark(fresh_store: Store) -> None:
    store_traces(fresh_store, loops(1, 10, at_s=10))
    now = BASE_NS + 7200 * S
    first = run_incremental(fresh_store, now_ns=now, settle_s=60, first_lookback_s=7200)
    end = now - 60 * S
    assert [(w.window.start_ns, w.window.end_ns) for w in first] == [
        (end - 7200 * S, end - 3600 * S),
        (end - 3600 * S, end),
    ]
    assert repository.get_watermark(fresh_store, "detectors") == end
    assert N_PLUS_ONE in first[0].new
    assert run_incremental(fresh_store, now_ns=now, settle_s=60) == []
    later = run_incremental(fresh_store, now_ns=now + 300 * S, settle_s=60)
    assert [(w.window.start_ns, w.window.end_ns) for w in later] == [(end, end + 300 * S)]
    assert repository.get_watermark(fresh_store, "detectors") == end + 300 * S
    record = repository.get(fresh_store, N_PLUS_ONE)
    assert record is not None and (record.times_seen, record.traces_affected) == (1, 10)
