"""The native ``/api/v1`` search endpoints against data sent through OTLP."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.search.data import World


def test_services_table_counts_server_spans(api: httpx.Client, world: World) -> None:
    body = api.get("/api/v1/services").json()
    services = {service["name"]: service for service in body["services"]}
    assert set(services) == {"frontend", "payments"}
    assert services["frontend"]["requests"] == 3  # two checkouts and one health check
    assert services["frontend"]["errors"] == 0
    payments = services["payments"]
    assert (payments["requests"], payments["errors"], payments["error_rate"]) == (2, 1, 0.5)
    assert 90 <= payments["p50_ms"] <= 280
    assert payments["p99_ms"] >= payments["p50_ms"]


def test_operations_per_kind(api: httpx.Client, world: World) -> None:
    body = api.get("/api/v1/services/frontend/operations").json()
    operations = {(op["name"], op["span_kind"]): op["requests"] for op in body["operations"]}
    assert operations == {
        ("GET /checkout", "Server"): 2,
        ("GET /health", "Server"): 1,
        ("POST /pay", "Client"): 2,
    }
    server_only = api.get("/api/v1/services/frontend/operations", params={"span_kind": "Client"}).json()
    assert [op["name"] for op in server_only["operations"]] == ["POST /pay"]


def test_trace_by_id_returns_every_span(api: httpx.Client, world: World) -> None:
    body = api.get(f"/api/v1/traces/{world.error_trace}").json()
    assert body["trace_id"] == world.error_trace
    assert body["span_count"] == 3 and not body["truncated"]
    root, client, charge = body["spans"]
    assert (root["name"], root["kind"], root["parent_span_id"]) == ("GET /checkout", "Server", "")
    assert client["parent_span_id"] == root["span_id"]
    assert charge["parent_span_id"] == client["span_id"]
    assert charge["span_id"] == world.error_charge_span
    assert charge["service_name"] == "payments"
    assert (charge["status_code"], charge["status_message"]) == ("Error", "card declined")
    assert charge["attributes"]["payment.method"] == "paypal"
    assert charge["resource_attributes"]["deployment.environment"] == "test"
    assert charge["scope_name"] == "payments" and charge["scope_version"] == "2.0"
    assert charge["duration_ns"] == 270_000_000
    assert charge["start_time_unix_nano"] - root["start_time_unix_nano"] == 10_000_000
    assert charge["start_time"].endswith("Z")
    [event] = charge["events"]
    assert event["name"] == "cache miss" and event["attributes"] == {"cache.key": "user:42"}


def test_trace_links(api: httpx.Client, world: World) -> None:
    [span] = api.get(f"/api/v1/traces/{world.health_trace}").json()["spans"]
    [link] = span["links"]
    assert link["trace_id"] == world.ok_trace
    assert link["attributes"] == {"link.reason": "retry of"}


def test_absent_trace_is_404(api: httpx.Client, world: World) -> None:
    response = api.get("/api/v1/traces/" + "ab" * 16)
    assert response.status_code == 404
    assert "not found" in response.json()["detail"]


def test_trace_search_filters(api: httpx.Client, world: World) -> None:
    def ids(**params: Any) -> list[str]:
        response = api.get("/api/v1/traces", params=params)
        assert response.status_code == 200, response.text
        return [summary["trace_id"] for summary in response.json()["traces"]]

    assert ids() == [world.health_trace, world.error_trace, world.ok_trace]
    assert ids(status="error") == [world.error_trace]
    assert ids(service="payments", operation="charge") == [world.error_trace, world.ok_trace]
    assert ids(service="payments", min_duration="200ms") == [world.error_trace]
    assert ids(service="payments", max_duration="0.2s") == [world.ok_trace]
    assert ids(attr="payment.method=card") == [world.ok_trace]
    assert ids(resource_attr="service.name=payments", attr="payment.method=paypal") == [world.error_trace]
    assert ids(q="health") == [world.health_trace]
    assert ids(span_kind="Client") == [world.error_trace, world.ok_trace]
    assert ids(start="now-2m") == [world.health_trace]


def test_trace_summary_fields(api: httpx.Client, world: World) -> None:
    [summary] = api.get("/api/v1/traces", params={"status": "error"}).json()["traces"]
    assert summary["root_service"] == "frontend"
    assert summary["root_operation"] == "GET /checkout"
    assert summary["duration_ns"] == 300_000_000
    assert (summary["span_count"], summary["error_count"]) == (3, 1)
    assert summary["services"] == ["frontend", "payments"]


def test_trace_search_pages_with_a_cursor(api: httpx.Client, world: World) -> None:
    first = api.get("/api/v1/traces", params={"limit": 2}).json()
    assert [t["trace_id"] for t in first["traces"]] == [world.health_trace, world.error_trace]
    second = api.get("/api/v1/traces", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [t["trace_id"] for t in second["traces"]] == [world.ok_trace]
    assert second["next_cursor"] is None


def test_log_search(api: httpx.Client, world: World) -> None:
    def bodies(**params: Any) -> list[str]:
        response = api.get("/api/v1/logs", params=params)
        assert response.status_code == 200, response.text
        return [record["body"] for record in response.json()["records"]]

    assert bodies(q="CONNECTION refused") == [
        "refused connection pool resized",
        "Connection refused by upstream db-1",
    ]
    assert bodies(q='"connection refused"') == ["Connection refused by upstream db-1"]
    assert bodies(q="db-1") == ["Connection refused by upstream db-1"]
    assert bodies(q="refus") == []  # whole words, not prefixes
    assert bodies(severity="warn") == ["Connection refused by upstream db-1", "slow response from payments"]
    assert bodies(service="frontend", severity="debug", q="cache") == ["cache warm: 17 entries"]
    assert bodies(trace_id=world.ok_trace) == ["checkout started for user 42"]
    assert bodies(span_id=world.error_charge_span) == ["Connection refused by upstream db-1"]
    assert bodies(attr="db.system=postgresql") == ["Connection refused by upstream db-1"]
    assert bodies(resource_attr="host.name=node-1", service="payments", limit=1) == [
        "x' OR 1=1; DROP TABLE otel_logs; --"
    ]


def test_log_hit_carries_its_trace(api: httpx.Client, world: World) -> None:
    [record] = api.get("/api/v1/logs", params={"q": "upstream"}).json()["records"]
    assert record["trace_id"] == world.error_trace
    assert record["span_id"] == world.error_charge_span
    assert (record["severity_text"], record["severity_number"], record["service_name"]) == (
        "ERROR",
        17,
        "payments",
    )
    assert record["attributes"] == {"db.system": "postgresql"}


def test_log_pages_cover_everything_once(api: httpx.Client, world: World) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 4}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/api/v1/logs", params=params).json()
        seen += [record["body"] for record in page["records"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 6 and len(set(seen)) == 6


def test_metric_names_and_attributes(api: httpx.Client, world: World) -> None:
    metrics = {m["name"]: m for m in api.get("/api/v1/metrics").json()["metrics"]}
    assert set(metrics) == {"queue.depth", "requests.total", "request.duration"}
    assert metrics["queue.depth"]["type"] == "gauge"
    assert metrics["queue.depth"]["attribute_keys"] == ["queue"]
    assert metrics["request.duration"]["services"] == ["frontend"]


def test_metric_series_aggregations(api: httpx.Client, world: World) -> None:
    def series(**params: Any) -> dict[str, list[float | None]]:
        response = api.get("/api/v1/metrics/series", params={"step": "1h", **params})
        assert response.status_code == 200, response.text
        return {
            ",".join(s["labels"].values()): [p["value"] for p in s["points"]]
            for s in response.json()["series"]
        }

    assert series(name="queue.depth", aggregation="max", group_by="queue") == {"mail": [8.0], "sms": [1.0]}
    assert series(name="queue.depth", aggregation="avg") == {"": [pytest.approx(13 / 3)]}
    assert series(name="requests.total", aggregation="rate", step="1m") == {"": [pytest.approx(1.0)]}
    assert series(name="request.duration", aggregation="p50") == {"": [pytest.approx(55.0)]}
    assert series(name="request.duration", aggregation="avg") == {"": [50.0]}


def test_metric_series_errors(api: httpx.Client, world: World) -> None:
    missing = api.get("/api/v1/metrics/series", params={"name": "no.such.metric"})
    assert missing.status_code == 404
    wrong = api.get("/api/v1/metrics/series", params={"name": "queue.depth", "aggregation": "p99"})
    assert (wrong.status_code, wrong.json()["parameter"]) == (400, "aggregation")


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/api/v1/traces", {"limit": "0"}, "limit"),
        ("/api/v1/traces", {"limit": "many"}, "limit"),
        ("/api/v1/traces", {"start": "yesterday"}, "start"),
        ("/api/v1/traces", {"end": "now-1x"}, "end"),
        ("/api/v1/traces", {"start": "now", "end": "now-1h"}, "start"),
        ("/api/v1/traces", {"min_duration": "fast"}, "min_duration"),
        ("/api/v1/traces", {"status": "broken"}, "status"),
        ("/api/v1/traces", {"attr": "no-equals-sign"}, "attr"),
        ("/api/v1/traces", {"cursor": "garbage!"}, "cursor"),
        ("/api/v1/logs", {"severity": "loud"}, "severity"),
        ("/api/v1/logs", {"trace_id": "xyz"}, "trace_id"),
        ("/api/v1/metrics/series", {"name": "queue.depth", "step": "1ms"}, "step"),
        ("/api/v1/metrics/series", {}, "name"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(
    api: httpx.Client, path: str, params: dict[str, str], parameter: str
) -> None:
    response = api.get(path, params=params)
    assert response.status_code == 400, response.text
    assert response.json()["parameter"] == parameter
    assert parameter in response.json()["detail"]


def test_malformed_trace_id_is_400(api: httpx.Client) -> None:
    response = api.get("/api/v1/traces/not-a-trace")
    assert (response.status_code, response.json()["parameter"]) == (400, "trace_id")


@pytest.mark.parametrize(
    "hostile",
    ["' OR 1=1 --", "x'); DROP TABLE otel_traces; --", "{p0:String}", "\\' OR \\'1", "%_*", "\u0000"],
)
def test_hostile_filters_match_nothing_and_break_nothing(
    api: httpx.Client, world: World, hostile: str
) -> None:
    for path, params in [
        ("/api/v1/traces", {"service": hostile}),
        ("/api/v1/traces", {"q": hostile, "attr": f"{hostile}={hostile}"}),
        ("/api/v1/logs", {"service": hostile, "attr": f"k={hostile}"}),
        (f"/api/v1/services/{quote(hostile, safe='')}/operations", {}),
    ]:
        response = api.get(path, params=params)
        assert response.status_code in (200, 404), (path, response.text)
        if response.status_code == 200:
            body = response.json()
            assert not body.get("traces") and not body.get("operations")
    # the data is all still there
    assert len(api.get("/api/v1/traces").json()["traces"]) == 3
    assert api.get("/api/v1/logs", params={"q": "DROP TABLE"}).json()["records"][0]["body"].startswith("x'")


def test_openapi_describes_the_search_api(api: httpx.Client) -> None:
    spec = api.get("/openapi.json").json()
    for path in ["/api/v1/services", "/api/v1/traces", "/api/v1/traces/{trace_id}", "/api/v1/logs",
                 "/api/v1/logs/stream", "/api/v1/metrics", "/api/v1/metrics/series"]:  # fmt: skip
        assert path in spec["paths"], path
    parameters = {p["name"]: p for p in spec["paths"]["/api/v1/traces"]["get"]["parameters"]}
    assert "description" in parameters["min_duration"]
    assert "TraceSummary" in spec["components"]["schemas"]
    assert api.get("/docs").status_code == 200
