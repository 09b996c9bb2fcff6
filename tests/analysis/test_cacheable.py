from tests.support.spans import frame, product_reads
from tsdev.analysis.detectors.cacheable import CacheableDetector, CacheableSettings
from tsdev.analysis.findings import Finding

HOUR = 3600.0
PRODUCT = "SELECT * FROM products WHERE id = ?"


def _run(traces, settings: CacheableSettings | None = None) -> list[Finding]:
    return CacheableDetector(settings).run(frame(traces), window_s=HOUR)


def test_a_read_repeated_across_requests_gets_hit_rates_per_ttl() -> None:
    assert _run(product_reads(1)) == [
        Finding(
            kind="cacheable",
            service="shop",
            fingerprint="v1:311b480458b8eb5c38ca36438a699eab",
            severity="low",
            title=f"Cacheable read {PRODUCT}: 95% of reads repeat within 300 s",
            parent_operation="*",
            operations=(PRODUCT,),
            evidence={
                "scope": "cross_request",
                "reads": 40,
                "distinct_reads": 1,
                "traces_affected": 40,
                "read_latency_ms_p50": 20.0,
                "resources": ["products"],
                "writes_seen": 0,
                "ttls": [
                    {"ttl_s": 30.0, "hit_rate": 0.65, "hits": 26, "saving_ms_per_hour": 507.0},
                    {"ttl_s": 300.0, "hit_rate": 0.95, "hits": 38, "saving_ms_per_hour": 741.0},
                    {"ttl_s": 3600.0, "hit_rate": 0.975, "hits": 39, "saving_ms_per_hour": 760.5},
                ],
                "recommended_ttl_s": 300.0,
                "example_trace_ids": [f"{n:032x}" for n in range(2, 7)],
            },
            estimated_saving_ms_per_hour=741.0,
            suggested_change=(
                "Cache the result in a shared cache keyed by the exact query and its parameters with a TTL "
                "of 300 s and invalidate it on writes to products."
            ),
        )
    ]


def test_repeats_within_one_request_are_a_separate_memoization_finding() -> None:
    [finding] = _run(product_reads(1, count=5, per_request=True, every_s=1000.0))
    assert finding == Finding(
        kind="cacheable",
        service="shop",
        fingerprint="v1:d948a871f13f476221a81bd39f0ba3bd",
        severity="low",
        title=f"Same read repeated within one GET /product request: {PRODUCT}",
        parent_operation="GET /product",
        operations=(PRODUCT,),
        evidence={
            "scope": "per_request",
            "reads": 10,
            "distinct_reads": 5,
            "duplicate_reads": 5,
            "traces_affected": 5,
            "read_latency_ms_p50": 20.0,
            "saving_ms_p50": 19.5,
            "resources": ["products"],
            "writes_seen": 0,
            "example_trace_ids": [f"{n:032x}" for n in range(1, 6)],
        },
        estimated_saving_ms_per_hour=97.5,
        suggested_change=(
            "Memoize the result for the duration of the request (load it once and pass it along, or a "
            "per-request cache keyed by the query and its parameters)."
        ),
    )


def test_both_scopes_are_reported_separately_when_both_occur() -> None:
    findings = _run(product_reads(1, per_request=True))
    assert sorted(str(f.evidence["scope"]) for f in findings) == ["cross_request", "per_request"]
    assert len({f.fingerprint for f in findings}) == 2


def test_reads_with_writes_in_between_do_not_fire() -> None:
    assert _run(product_reads(1, write_between=True)) == []


def test_reads_too_far_apart_or_too_few_do_not_fire() -> None:
    assert _run(product_reads(1, every_s=4000.0)) == []
    assert _run(product_reads(1, count=10)) == []


def test_reads_with_unrecorded_bound_values_are_not_comparable() -> None:
    traces = product_reads(1)
    for trace in traces:
        for row in trace.rows:
            if row.get("db_statement"):
                row["db_statement"] = "SELECT * FROM products WHERE id = $1"
    assert _run(traces) == []
    for trace in traces:
        for row in trace.rows:
            if row.get("db_statement"):
                row["db_parameters"] = "0=7"
    assert [f.evidence["scope"] for f in _run(traces)] == ["cross_request"]
