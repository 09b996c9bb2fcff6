import polars as pl
import pytest

from tests.support.spans import (
    frame,
    graphql_loop,
    http_loop,
    loop_noise,
    orders_loop,
    orders_without_loop,
    query_waterfall,
)
from tsdev.analysis.detectors import NPlusOneDetector, NPlusOneSettings
from tsdev.analysis.findings import Finding

ITEMS = "SELECT * FROM items WHERE order_id = ?"
HOUR = 3600.0


def _run(*traces, settings: NPlusOneSettings | None = None) -> list[Finding]:
    return NPlusOneDetector(settings).run(frame(traces), window_s=HOUR)


def test_query_per_item_is_reported_once_per_endpoint_with_its_evidence() -> None:
    findings = _run(orders_loop(1), orders_loop(2), orders_loop(3), orders_without_loop(4))
    assert findings == [
        Finding(
            kind="n_plus_one",
            service="shop",
            fingerprint="v1:2ebe50f6e8575f6fb36197c2462099c9",
            severity="medium",
            title=f"N+1 query in GET /orders: {ITEMS} ~6 times",
            parent_operation="GET /orders",
            operations=(ITEMS,),
            evidence={
                "traces_affected": 3,
                "traces_total": 4,
                "share_of_traces": 0.75,
                "occurrences": 3,
                "repeats_per_trace_p50": 6.0,
                "repeats_per_trace_max": 6,
                "repeat_time_ms_p50": 72.0,
                "repeat_time_ms_p95": 72.0,
                "saving_ms_p50": 60.0,
                "call_type": "db",
                "source_operation": "SELECT id FROM orders WHERE user_id = ?",
                "example_trace_ids": [f"{n:032x}" for n in (1, 2, 3)],
                "code_location": {"function": "load_items", "filepath": "shop/orders.py", "lineno": 40},
            },
            estimated_saving_ms_per_hour=180.0,
            suggested_change=(
                "Fetch all rows in one query (WHERE ... IN (...) or a join) or eager-load the relation, "
                "instead of one query per item."
            ),
        )
    ]


def test_concurrent_repeats_count_once_in_the_time_floor() -> None:
    slow = _run(orders_loop(1, concurrent=True, each_ms=60.0))
    assert [f.evidence["repeat_time_ms_p50"] for f in slow] == [60.0]
    assert _run(orders_loop(1, concurrent=True, each_ms=40.0)) == []


def test_repeated_resolver_calls_are_one_pattern_finding() -> None:
    [finding] = _run(graphql_loop(10))
    assert finding == Finding(
        kind="n_plus_one",
        service="shop",
        fingerprint="v1:dae9d751ba0510d575f0742ea56a46a8",
        severity="medium",
        title="2 calls repeated per item ~4 times in POST /graphql",
        parent_operation="POST /graphql",
        operations=("SELECT * FROM comments WHERE post_id = ?", "SELECT * FROM users WHERE id = ?"),
        evidence={
            "traces_affected": 1,
            "traces_total": 1,
            "share_of_traces": 1.0,
            "occurrences": 1,
            "repeats_per_trace_p50": 4.0,
            "repeats_per_trace_max": 4,
            "repeat_time_ms_p50": 80.0,
            "repeat_time_ms_p95": 80.0,
            "saving_ms_p50": 60.0,
            "call_type": "pattern",
            "source_operation": "SELECT * FROM posts LIMIT ?",
            "example_trace_ids": ["0000000000000000000000000000000a"],
            "pattern": ["SELECT * FROM users WHERE id = ?", "SELECT * FROM comments WHERE post_id = ?"],
        },
        estimated_saving_ms_per_hour=60.0,
        suggested_change=(
            "Each item triggers the same sequence of calls: load the related data for all items at once "
            "(eager-load the relations, or a dataloader that batches each call across items)."
        ),
    )


def test_two_pattern_repeats_are_not_a_loop() -> None:
    assert _run(graphql_loop(10, items=2, each_ms=30.0)) == []


def test_http_calls_per_item_are_grouped_by_url_template() -> None:
    [finding] = _run(http_loop(20), http_loop(21))
    assert finding.operations == ("GET inventory:8080/items/{id}?fields=?",)
    assert finding.fingerprint == "v1:2b82bcff9152f1d7d9d25adcf689dd32"
    assert finding.evidence["repeats_per_trace_p50"] == 8.0
    assert finding.suggested_change.startswith("Use the service's batch endpoint")


@pytest.mark.parametrize(
    "trace",
    [
        pytest.param(orders_loop(1, repeats=4, each_ms=30.0), id="four-repeats"),
        pytest.param(orders_loop(1, repeats=10, each_ms=2.0), id="fast-repeats-under-the-floor"),
        pytest.param(orders_loop(1, repeats=10, each_ms=20.0, system="redis"), id="redis-repeats"),
        pytest.param(query_waterfall(1), id="waterfall-of-different-statements"),
        pytest.param(loop_noise(1), id="connection-fetch-and-truncated-spans"),
    ],
)
def test_near_misses_do_not_fire(trace) -> None:
    assert _run(trace) == []


def test_identical_reads_are_left_to_the_cache_detector() -> None:
    trace = orders_loop(1)
    same = "SELECT * FROM items WHERE order_id = 1"
    trace.rows = [
        {**row, "db_statement": same} if "items" in row.get("db_statement", "") else row for row in trace.rows
    ]
    assert _run(trace) == []


def test_thresholds_come_from_settings() -> None:
    loose = NPlusOneSettings(min_repeats=4, min_total_ms=10.0)
    assert len(_run(orders_loop(1, repeats=4, each_ms=5.0), settings=loose)) == 1


def test_result_does_not_depend_on_row_order() -> None:
    spans = frame([orders_loop(1), orders_loop(2), graphql_loop(3)])
    shuffled = spans.sample(fraction=1.0, shuffle=True, seed=3)
    detector = NPlusOneDetector()
    assert detector.run(shuffled, window_s=HOUR) == detector.run(spans, window_s=HOUR)
    assert detector.run(pl.DataFrame(schema=spans.schema)) == []
