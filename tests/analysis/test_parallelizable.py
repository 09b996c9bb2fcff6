from pydantic import JsonValue

from tests.support.spans import frame, profile_page, report_workflow
from tsdev.analysis.detectors.parallelizable import ParallelizableDetector, ParallelizableSettings
from tsdev.analysis.findings import Finding

HOUR = 3600.0
TRACES: list[JsonValue] = [f"{n:032x}" for n in range(1, 5)]


def _run(traces, settings: ParallelizableSettings | None = None) -> list[Finding]:
    return ParallelizableDetector(settings).run(frame(traces), window_s=HOUR)


def test_calls_using_only_request_values_are_reported_with_the_saving() -> None:
    assert _run([profile_page(n) for n in range(1, 5)]) == [
        Finding(
            kind="parallelizable",
            service="shop",
            fingerprint="v1:296be58ab01022d00725b6956d8b8c90",
            severity="high",
            title="3 independent calls run one after another in GET /profile",
            parent_operation="GET /profile",
            operations=(
                "GET recs:8080/users/{id}",
                "SELECT * FROM prefs WHERE user_id = ?",
                "SELECT * FROM users WHERE id = ?",
            ),
            evidence={
                "traces_affected": 4,
                "traces_total": 4,
                "share_of_traces": 1.0,
                "occurrences": 4,
                "saving_ms_p50": 220.0,
                "saving_ms_p95": 220.0,
                "sequential_ms_p50": 370.0,
                "saving_share_of_parent_p50": 0.55,
                "independence": ["values"],
                "orders_seen": 1,
                "example_trace_ids": TRACES,
            },
            estimated_saving_ms_per_hour=880.0,
            suggested_change=(
                "Start these 3 calls together and wait for all of them (asyncio.gather, a thread pool, or "
                "parallel workflow steps): about 220 ms less per request."
            ),
        )
    ]


def test_calls_whose_order_varies_across_traces_are_independent() -> None:
    [finding] = _run([profile_page(n, swap=n % 2 == 0, dependent=True) for n in range(1, 5)])
    assert finding.evidence["independence"] == ["order_varies"]
    assert finding.evidence["orders_seen"] == 2
    assert finding.fingerprint == "v1:af23c2d0320be97e83d5710f89fb9473"


def test_workflow_steps_declared_independent_are_reported() -> None:
    [finding] = _run([report_workflow(n) for n in range(1, 5)])
    assert (finding.service, finding.parent_operation, finding.operations) == (
        "reports", "report", ("fetch sales", "fetch stock"),
    )  # fmt: skip
    assert finding.evidence["independence"] == ["workflow"]
    assert finding.evidence["saving_ms_p50"] == 250.0
    assert finding.fingerprint == "v1:001d3d626d57f6b371052fefc93a3925"


def test_dependent_sequential_calls_do_not_fire() -> None:
    assert _run([profile_page(n, dependent=True, durations=(120.0, 100.0)) for n in range(1, 5)]) == []


def test_steps_without_declared_dependencies_do_not_fire() -> None:
    assert _run([report_workflow(n, declared=False) for n in range(1, 5)]) == []


def test_savings_under_the_floors_do_not_fire() -> None:
    assert _run([profile_page(n, durations=(30.0, 30.0, 40.0)) for n in range(1, 5)]) == []
    share_floor = ParallelizableSettings(min_saving_ms=10.0, min_saving_share=0.9)
    assert _run([profile_page(n) for n in range(1, 5)], settings=share_floor) == []


def test_a_pattern_seen_in_too_few_traces_does_not_fire() -> None:
    assert _run([profile_page(n) for n in range(1, 3)]) == []


def test_overlapping_calls_are_already_parallel() -> None:
    traces = [profile_page(n) for n in range(1, 5)]
    for trace in traces:
        for row in trace.rows[1:]:
            row["start_ns"] = trace.rows[1]["start_ns"]
            row["end_ns"] = row["start_ns"] + row["duration_ns"]
    assert _run(traces) == []
