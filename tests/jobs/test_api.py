"""``/api/v1/findings``, ``/api/v1/analyze`` and the ``tsdev analyze``/``findings`` commands against
the in-process server."""

from __future__ import annotations

import json
import time

import httpx
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind
from typer.testing import CliRunner

from tests.jobs.support import N_PLUS_ONE, S, loops, store_traces
from tests.support.server import InProcessServer
from tests.support.spans import BASE_NS
from tsdev.cli.main import app
from tsdev.core.query import format_time

MS = 1_000_000
runner = CliRunner()


def _analyze_stored(server: InProcessServer) -> dict[str, object]:
    store_traces(server.store, loops(1, 10, at_s=10))
    body = {"start": format_time(BASE_NS), "end": format_time(BASE_NS + 600 * S)}
    response = httpx.post(f"{server.api_url}/api/v1/analyze", json=body, timeout=60)
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def test_analyze_stores_findings_the_api_lists_and_details(server: InProcessServer) -> None:
    result = _analyze_stored(server)
    assert (result["spans"], result["traces"]) == (80, 10)
    assert N_PLUS_ONE in result["new"]  # type: ignore[operator]
    api = f"{server.api_url}/api/v1"

    listed = httpx.get(f"{api}/findings").json()["findings"]
    savings = [row["estimated_saving_ms_per_hour"] for row in listed]
    assert savings == sorted(savings, reverse=True)
    assert N_PLUS_ONE in {row["id"] for row in listed}
    only = httpx.get(f"{api}/findings", params={"kind": "n_plus_one", "service": "shop"}).json()["findings"]
    assert [row["id"] for row in only] == [N_PLUS_ONE]
    assert httpx.get(f"{api}/findings", params={"service": "nope"}).json()["findings"] == []
    assert httpx.get(f"{api}/findings", params={"kind": "nope"}).status_code == 400
    assert httpx.get(f"{api}/findings", params={"kind": "seasonality"}).json()["findings"] == []

    detail = httpx.get(f"{api}/findings/{N_PLUS_ONE}").json()
    assert detail["evidence"]["traces_affected"] == 10
    assert detail["suggested_change"]
    example = detail["example_traces"][0]
    assert example["url"] == f"/api/v1/traces/{example['trace_id']}"
    spans = httpx.get(f"{server.api_url}{example['url']}").json()["spans"]
    assert {s["name"] for s in spans} >= {"GET /orders", "SELECT"}
    assert httpx.get(f"{api}/findings/v1:absent").status_code == 404


def test_people_set_the_status_and_may_not_set_the_analysis_verdicts(server: InProcessServer) -> None:
    _analyze_stored(server)
    url = f"{server.api_url}/api/v1/findings/{N_PLUS_ONE}"
    patched = httpx.patch(url, json={"status": "acknowledged"})
    assert patched.status_code == 200 and patched.json()["status"] == "acknowledged"
    posted = httpx.post(f"{url}/status", json={"status": "ignored"})
    assert posted.status_code == 200 and posted.json()["status"] == "ignored"
    ignored = httpx.get(f"{server.api_url}/api/v1/findings", params={"status": "ignored"}).json()["findings"]
    assert [row["id"] for row in ignored] == [N_PLUS_ONE]
    assert httpx.patch(url, json={"status": "resolved"}).status_code == 400
    assert httpx.patch(f"{url}x", json={"status": "open"}).status_code == 404


def test_analyze_since_covers_the_last_stretch_of_time(server: InProcessServer) -> None:
    response = httpx.post(f"{server.api_url}/api/v1/analyze", json={"since": "2h"}, timeout=60)
    assert response.status_code == 200
    body = response.json()
    assert (body["spans"], body["findings"]) == (0, [])
    bad = httpx.post(f"{server.api_url}/api/v1/analyze", json={"since": "soon"})
    assert bad.status_code == 400 and bad.json()["parameter"] == "since"


def _send_loops_through_the_sdk(otlp_url: str, start_ns: int, traces: int = 10) -> None:
    """The ``GET /orders`` N+1 of :func:`tests.support.spans.orders_loop`, sent by the SDK with the
    new semantic-convention names."""
    provider = TracerProvider(resource=Resource.create({"service.name": "shop", "service.version": "1.0.0"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp_url}/v1/traces")))
    tracer = provider.get_tracer("shop")
    for n in range(traces):
        at = start_ns + n * S
        root = tracer.start_span(
            "GET /orders", kind=SpanKind.SERVER, start_time=at,
            attributes={"http.request.method": "GET", "http.route": "/orders"},
        )  # fmt: skip
        context = trace.set_span_in_context(root)
        statements = ["SELECT id FROM orders WHERE user_id = 7"] + [
            f"SELECT * FROM items WHERE order_id = {i}" for i in range(6)
        ]
        for i, statement in enumerate(statements):
            begin = at + (1 if i == 0 else 10 + (i - 1) * 13) * MS
            span = tracer.start_span(
                "SELECT", context=context, kind=SpanKind.CLIENT, start_time=begin,
                attributes={"db.system.name": "postgresql", "db.query.text": statement},
            )  # fmt: skip
            span.end(end_time=begin + (5 if i == 0 else 12) * MS)
        root.end(end_time=at + 98 * MS)
    provider.shutdown()


def test_the_cli_analyzes_spans_sent_by_the_sdk_and_lists_the_findings(server: InProcessServer) -> None:
    _send_loops_through_the_sdk(server.otlp_url, time.time_ns() - 600 * S)
    result = runner.invoke(app, ["analyze", "--since", "2h", "--server", server.api_url])
    assert result.exit_code == 0, result.output
    assert "analysed 80 spans of 10 traces" in result.stderr
    assert N_PLUS_ONE in result.stdout and "n_plus_one" in result.stdout

    listed = runner.invoke(app, ["findings", "--kind", "n_plus_one", "--server", server.api_url])
    assert listed.exit_code == 0, listed.output
    rows = [line for line in listed.stdout.splitlines() if "v1:" in line]
    assert len(rows) == 1 and N_PLUS_ONE in rows[0] and "shop" in rows[0]

    as_json = runner.invoke(app, ["findings", "--json", "--server", server.api_url])
    ids = [row["id"] for row in json.loads(as_json.stdout)["findings"]]
    assert N_PLUS_ONE in ids
    detail = runner.invoke(app, ["finding", N_PLUS_ONE, "--server", server.api_url])
    assert json.loads(detail.stdout)["evidence"]["traces_affected"] == 10
    missing = runner.invoke(app, ["finding", "v1:absent", "--server", server.api_url])
    assert missing.exit_code == 1


def test_the_cli_refuses_a_bad_since() -> None:
    result = runner.invoke(app, ["analyze", "--since", "soon", "--server", "http://127.0.0.1:9"])
    assert result.exit_code == 2
