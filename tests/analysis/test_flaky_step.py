import pytest

from tests.support.spans import TraceBuilder, charge_calls, frame
from tsdev.analysis.detectors.flaky_step import FlakyStepDetector, FlakyStepSettings
from tsdev.analysis.findings import Finding

HOUR = 3600.0
CHARGE = "POST payments/charges?order=?"


def _run(traces, settings: FlakyStepSettings | None = None) -> list[Finding]:
    return FlakyStepDetector(settings).run(frame(traces), window_s=HOUR)


def test_intermittent_timeouts_get_a_retry_policy_and_an_idempotency_warning() -> None:
    assert _run(charge_calls(1)) == [
        Finding(
            kind="flaky_step",
            service="checkout",
            fingerprint="v1:09bac2fb56e34dc769c5010c4edd51ba",
            severity="low",
            title=f"Flaky {CHARGE}: 5.0% of 200 runs fail transiently",
            parent_operation="",
            operations=(CHARGE,),
            evidence={
                "runs": 200,
                "failures": 10,
                "error_rate": 0.05,
                "transient_failure_share": 1.0,
                "failure_streaks": 10,
                "error_signatures": [{"signature": "httpx.ReadTimeout", "count": 10}],
                "service_versions": ["1.0.0"],
                "retries_observed": False,
                "retried_failure_share": 0.0,
                "failure_latency_ms_p50": 250.0,
                "failure_latency_ms_p95": 250.0,
                "success_latency_ms_p50": 80.0,
                "idempotent": False,
                "retry_policy": {
                    "attempts": 3,
                    "initial_backoff_ms": 250.0,
                    "multiplier": 2.0,
                    "max_backoff_ms": 500.0,
                    "jitter": "full",
                    "expected_success": 0.999875,
                },
                "callers": ["POST /checkout"],
                "example_trace_ids": [f"{n:032x}" for n in (11, 31, 51, 71, 91)],
            },
            estimated_saving_ms_per_hour=2500.0,
            suggested_change=(
                f"Retry {CHARGE} up to 3 attempts in total with exponential backoff and full jitter "
                "(first wait up to 250 ms, doubling, at most 500 ms): with the observed 5.00% failure rate "
                "that reaches 99.9875% success. Warning: the operation writes, so a retry after a timeout "
                "can apply it twice; make it idempotent first (send an idempotency key, or upsert) before "
                "retrying."
            ),
        )
    ]


def test_existing_retries_are_noted_and_reads_need_no_warning() -> None:
    [finding] = _run(charge_calls(1, retry=True, method="GET", failure="503"))
    assert finding.operations == ("GET payments/charges?order=?",)
    assert finding.evidence["runs"] == 210
    assert finding.evidence["retries_observed"] is True
    assert finding.evidence["retried_failure_share"] == 1.0
    assert finding.evidence["error_signatures"] == [{"signature": "HTTP 503", "count": 10}]
    assert finding.evidence["idempotent"] is True
    assert finding.suggested_change.endswith(
        "Retries already happen for 100% of failures (up to 2 attempts seen); align them with this policy."
    )


def test_a_failing_workflow_step_is_reported_with_its_workflow() -> None:
    traces = []
    for i in range(100):
        trace = TraceBuilder(number=i + 1, start_ms=i * 1000.0, service="etl")
        run = trace.span("nightly", duration_ms=900.0, workflow_name="nightly")
        fails = i % 10 == 3
        trace.span(
            "reserve stock",
            parent=run,
            at_ms=1,
            duration_ms=40.0 if fails else 20.0,
            workflow_step="reserve",
            status="Error" if fails else "Ok",
            status_message="deadlock detected" if fails else "",
        )
        trace.db("INSERT INTO audit (a) VALUES (1)", parent=run, at_ms=50, duration_ms=1)
        traces.append(trace)
    [finding] = _run(traces)
    assert (finding.operations, finding.parent_operation) == (("reserve",), "nightly")
    assert finding.fingerprint == "v1:3fcdc171ce342530e38e59b4ff7080ba"
    assert finding.evidence["retry_policy"] == {
        "attempts": 3, "initial_backoff_ms": 50.0, "multiplier": 2.0, "max_backoff_ms": 100.0,
        "jitter": "full", "expected_success": 0.999,
    }  # fmt: skip
    assert finding.evidence["idempotent"] is True


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"layout": "always"}, id="step-that-always-fails"),
        pytest.param({"layout": "outage"}, id="one-outage-not-interleaved"),
        pytest.param({"failure": "bug"}, id="non-transient-errors"),
        pytest.param({"runs": 40}, id="too-few-runs"),
        pytest.param({"fail_every": 500, "runs": 400}, id="error-rate-under-half-a-percent"),
    ],
)
def test_near_misses_do_not_fire(kwargs) -> None:
    assert _run(charge_calls(1, **kwargs)) == []


def test_a_parent_failing_only_because_of_its_child_is_not_reported_twice() -> None:
    traces = charge_calls(1)
    for trace in traces:
        if any(row.get("status") == "Error" for row in trace.rows):
            trace.rows[0] = {**trace.rows[0], "status": "Error", "http_status": 504}
    assert [f.operations for f in _run(traces)] == [(CHARGE,)]
