"""The Jaeger-compatible API, driven by the requests Grafana's Jaeger data source sends."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.search.data import World

ENVELOPE_KEYS = {"data", "total", "limit", "offset", "errors"}


def _get(api: httpx.Client, path: str, **params: Any) -> dict[str, Any]:
    response = api.get(f"/jaeger/api{path}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == ENVELOPE_KEYS
    assert body["errors"] is None and body["offset"] == 0
    return body


def _range(world: World) -> dict[str, str]:
    """start/end in microseconds, as Grafana sends them for the dashboard's time range."""
    return {"start": str(world.now_ns // 1000 - 3600_000_000), "end": str(world.now_ns // 1000 + 1_000_000)}


def test_services_and_operations(api: httpx.Client, world: World) -> None:
    services = _get(api, "/services")
    assert (services["data"], services["total"]) == (["frontend", "payments"], 2)
    operations = _get(api, "/services/frontend/operations")
    assert operations["data"] == ["GET /checkout", "GET /health", "POST /pay"]
    assert operations["total"] == 3
    by_kind = _get(api, "/operations", service="frontend", spanKind="client")
    assert by_kind["data"] == [{"name": "POST /pay", "spanKind": "client"}]
    every = _get(api, "/operations", service="payments")
    assert every["data"] == [{"name": "charge", "spanKind": "server"}]


def test_trace_by_id_field_for_field(api: httpx.Client, world: World) -> None:
    body = _get(api, f"/traces/{world.error_trace}")
    assert body["total"] == 0 and body["limit"] == 0
    [trace] = body["data"]
    assert set(trace) == {"traceID", "spans", "processes", "warnings"}
    assert trace["traceID"] == world.error_trace and trace["warnings"] is None
    spans = {span["operationName"]: span for span in trace["spans"]}
    root, client, charge = spans["GET /checkout"], spans["POST /pay"], spans["charge"]
    assert set(charge) == {
        "traceID", "spanID", "flags", "operationName", "references", "startTime", "duration", "tags", "logs",
        "processID", "warnings",
    }  # fmt: skip
    assert root["references"] == []
    assert charge["references"] == [
        {"refType": "CHILD_OF", "traceID": world.error_trace, "spanID": client["spanID"]}
    ]
    assert charge["spanID"] == world.error_charge_span
    assert charge["duration"] == 270_000  # microseconds
    assert charge["startTime"] - root["startTime"] == 10_000
    assert isinstance(charge["startTime"], int) and charge["startTime"] > 1_600_000_000_000_000
    tags = {tag["key"]: (tag["type"], tag["value"]) for tag in charge["tags"]}
    assert tags["payment.method"] == ("string", "paypal")
    assert tags["retries"] == ("int64", 2)
    assert tags["amount"] == ("float64", 12.5)
    assert tags["fraud.checked"] == ("bool", True)
    assert tags["span.kind"] == ("string", "server")
    assert tags["error"] == ("bool", True)
    assert tags["otel.status_code"] == ("string", "ERROR")
    assert tags["otel.status_description"] == ("string", "card declined")
    assert tags["otel.scope.name"] == ("string", "payments")
    assert charge["logs"] == [
        {
            "timestamp": charge["startTime"] + 2_000,
            "fields": [
                {"key": "event", "type": "string", "value": "cache miss"},
                {"key": "cache.key", "type": "string", "value": "user:42"},
            ],
        }
    ]
    process = trace["processes"][charge["processID"]]
    assert process["serviceName"] == "payments"
    assert {"key": "deployment.environment", "type": "string", "value": "test"} in process["tags"]
    assert all(tag["key"] != "service.name" for tag in process["tags"])
    assert trace["processes"][root["processID"]]["serviceName"] == "frontend"
    assert root["processID"] != charge["processID"]


def test_links_become_follows_from(api: httpx.Client, world: World) -> None:
    [trace] = _get(api, f"/traces/{world.health_trace}")["data"]
    [span] = trace["spans"]
    # the link points at span id 1 of the ok trace (see tests.search.data)
    assert span["references"] == [
        {"refType": "FOLLOWS_FROM", "traceID": world.ok_trace, "spanID": f"{1:016x}"}
    ]


def test_absent_trace_is_404_in_jaeger_shape(api: httpx.Client, world: World) -> None:
    response = api.get("/jaeger/api/traces/" + "cd" * 16)
    assert response.status_code == 404
    assert response.json() == {
        "data": None, "total": 0, "limit": 0, "offset": 0,
        "errors": [{"code": 404, "msg": "trace not found"}],
    }  # fmt: skip


def test_grafana_search_sequence(api: httpx.Client, world: World) -> None:
    """services -> operations -> search with tags JSON and minDuration, as the query editor builds it."""
    assert "payments" in _get(api, "/services")["data"]
    assert "charge" in _get(api, "/services/payments/operations")["data"]
    found = _get(
        api, "/traces", service="payments", operation="charge", tags=json.dumps({"payment.method": "paypal"}),
        minDuration="1.2ms", maxDuration="", limit="20", lookback="custom", **_range(world),
    )  # fmt: skip
    assert [trace["traceID"] for trace in found["data"]] == [world.error_trace]
    assert len(found["data"][0]["spans"]) == 3  # search answers whole traces


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"service": "payments"}, ["error", "ok"]),
        ({"service": "payments", "minDuration": "200ms"}, ["error"]),
        ({"service": "payments", "maxDuration": "200000us"}, ["ok"]),
        ({"service": "payments", "tags": '{"error":"true"}'}, ["error"]),
        ({"service": "payments", "tags": '{"error":true}'}, ["error"]),
        ({"service": "payments", "tags": '{"otel.status_code":"ERROR"}'}, ["error"]),
        ({"service": "frontend", "tags": '{"span.kind":"client"}'}, ["error", "ok"]),
        ({"service": "frontend", "tags": '{"http.response.status_code":500}'}, ["error"]),
        ({"service": "payments", "tags": '{"deployment.environment":"test","retries":"2"}'}, ["error", "ok"]),
        ({"service": "payments", "tag": "payment.method:card"}, ["ok"]),
        ({"service": "frontend", "operation": "GET /health"}, ["health"]),
        ({"service": "frontend", "limit": "1"}, ["health"]),
        ({"service": "payments", "tags": '{"payment.method":"\' OR 1=1 --"}'}, []),
    ],
)
def test_search_filters(api: httpx.Client, world: World, params: dict[str, str], expected: list[str]) -> None:
    names = {world.error_trace: "error", world.ok_trace: "ok", world.health_trace: "health"}
    found = _get(api, "/traces", **params, **_range(world))
    assert [names[trace["traceID"]] for trace in found["data"]] == expected


def test_search_with_lookback_only(api: httpx.Client, world: World) -> None:
    found = _get(api, "/traces", service="frontend", lookback="2m")
    assert [trace["traceID"] for trace in found["data"]] == [world.health_trace]


def test_search_by_trace_ids(api: httpx.Client, world: World) -> None:
    found = _get(api, "/traces", traceID=[world.ok_trace, world.health_trace])
    assert [trace["traceID"] for trace in found["data"]] == [world.ok_trace, world.health_trace]


def test_dependencies(api: httpx.Client, world: World) -> None:
    end_ms = world.now_ns // 1_000_000 + 1000
    body = _get(api, "/dependencies", endTs=str(end_ms), lookback=str(3600_000))
    assert body["data"] == [{"parent": "frontend", "child": "payments", "callCount": 2}]
    assert _get(api, "/dependencies", endTs=str(end_ms - 3600_000), lookback="60000")["data"] == []


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/traces", {}, "service"),
        ("/traces", {"service": "x", "minDuration": "1.2 parsecs"}, "minDuration"),
        ("/traces", {"service": "x", "start": "yesterday"}, "start"),
        ("/traces", {"service": "x", "tags": "{not json"}, "tags"),
        ("/traces", {"service": "x", "tags": "[1, 2]"}, "tags"),
        ("/traces", {"service": "x", "tag": "nocolon"}, "tag"),
        ("/traces", {"service": "x", "limit": "-5"}, "limit"),
        ("/traces/xyz", {}, "traceID"),
        ("/operations", {}, "service"),
        ("/operations", {"service": "x", "spanKind": "sideways"}, "spanKind"),
        ("/dependencies", {"endTs": "soon"}, "endTs"),
    ],
)
def test_bad_parameters_in_jaeger_shape(
    api: httpx.Client, path: str, params: dict[str, str], parameter: str
) -> None:
    response = api.get(f"/jaeger/api{path}", params=params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == ENVELOPE_KEYS and body["data"] is None
    [error] = body["errors"]
    assert error["code"] == 400 and parameter in error["msg"]
