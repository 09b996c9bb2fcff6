from tsdev.analysis.findings import Finding, severity_for
from tsdev.analysis.fingerprint import fingerprint


def test_fingerprint_is_a_versioned_hash_of_the_signature_only() -> None:
    value = fingerprint("n_plus_one", "shop", "GET /orders", ["SELECT * FROM users WHERE id = ?"])
    assert value == "v1:ab8fa60199c4cc1e538166a969ff794f"
    assert fingerprint("n_plus_one", "shop", "GET /orders", ["SELECT * FROM users WHERE id = ?"]) == value
    assert fingerprint("n_plus_one", "shop", "GET /orders", ["SELECT * FROM users WHERE uid = ?"]) != value
    assert fingerprint("cacheable", "shop", "GET /orders", ["SELECT * FROM users WHERE id = ?"]) != value
    assert fingerprint("n_plus_one", "shop", "GET /order", ["sSELECT * FROM users WHERE id = ?"]) != value


def test_fields_cannot_bleed_into_each_other() -> None:
    assert fingerprint("k", "ab", "c", []) != fingerprint("k", "a", "bc", [])
    assert fingerprint("k", "s", "p", ["a", "b"]) != fingerprint("k", "s", "p", ["b", "a"])


def test_finding_round_trips_through_json() -> None:
    finding = Finding(
        kind="cacheable",
        service="shop",
        fingerprint="v1:x",
        severity="low",
        title="t",
        parent_operation="*",
        operations=("SELECT 1",),
        evidence={"example_trace_ids": ["a"], "hit_rate": 0.5},
        estimated_saving_ms_per_hour=12.5,
        suggested_change="cache it",
    )
    text = finding.to_json()
    assert text.startswith('{"estimated_saving_ms_per_hour":12.5,"evidence":{"example_trace_ids":["a"]')
    assert Finding.from_json(text) == finding


def test_severity_weighs_cost_per_request_by_reach() -> None:
    assert severity_for(400.0, 0.5) == "high"
    assert severity_for(400.0, 0.1) == "medium"
    assert severity_for(1000.0, 0.01) == "low"
