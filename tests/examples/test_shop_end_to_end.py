"""The shop exporting to an in-process tsdev: its traces land with the shapes the detectors look for,
and the detectors find all four problems it has on purpose."""

from __future__ import annotations

import importlib
import itertools
import time
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from tsdev.analysis.jobs.records import Window
from tsdev.analysis.jobs.runner import analyze_window

if TYPE_CHECKING:
    from tests.support.server import InProcessServer

# The shop is a project folder put on sys.path by this package's conftest, outside mypy's path.
shop_server: Any = importlib.import_module("shop.server")
traffic: Any = importlib.import_module("shop.traffic")
ShopConfig: Any = importlib.import_module("shop.config").ShopConfig

pytestmark = pytest.mark.integration

CATALOG = "SELECT id, name, price_cents FROM products ORDER BY id"
ITEMS = "SELECT product_id, quantity FROM items WHERE order_id = ?"
ORDERS_SHOWN = 6
CHECKOUTS = 60
REQUESTS = [*["checkout"] * CHECKOUTS, *["orders"] * 6, *["home"] * 4, *["catalog"] * 4]

# Above the detectors' default thresholds: 6 item reads x 10 ms > 50 ms of N+1; the stub calls sum to
# 180 ms where the longest takes 70, saving more than 100 ms; 60 payment calls > 50 runs. The payment
# timeout is generous: shop, stubs and tsdev share this process, and load must not look like flakiness.
CONFIG = dict(
    db_latency_ms=10,
    user_latency_ms=50,
    recommendations_latency_ms=70,
    inventory_latency_ms=60,
    payment_latency_ms=2,
    payment_timeout_rate=0.15,
    payment_timeout_ms=400,
    orders_shown=ORDERS_SHOWN,
    seed=11,
)


def _rows(server: InProcessServer, sql: str) -> list[tuple[Any, ...]]:
    return server.store.query_rows(sql.format(traces=server.store.table("otel_traces")))


def _poll(server: InProcessServer, sql: str, expected: int, timeout_s: float = 30.0) -> int:
    deadline = time.monotonic() + timeout_s
    while True:
        count = int(_rows(server, sql)[0][0])
        if count >= expected or time.monotonic() > deadline:
            return count
        time.sleep(0.1)


def _run_shop(server: InProcessServer) -> tuple[Any, int, int]:
    config = ShopConfig(otlp_endpoint=server.otlp_url, **CONFIG)
    started = time.time_ns()
    running = shop_server.start(config, port=0, stubs_port=0)
    try:
        now = datetime.now(UTC)
        requests = [
            traffic.Arrival(0.0, now, traffic.ShopRequest(kind, user_id=1 + i % 7, product_id=1 + i % 5))
            for i, kind in enumerate(REQUESTS)
        ]
        # The sequential calls one request at a time: a busy process stretches the gaps between
        # them past what the detector still calls "one after another".
        stats = traffic.drive(running.url, iter(r for r in requests if r.request.kind != "home"), paced=False)
        quiet = traffic.drive(
            running.url, iter(r for r in requests if r.request.kind == "home"), concurrency=1, paced=False
        )
        stats.statuses.update(quiet.statuses)
        stats.by_kind.update(quiet.by_kind)
        stats.failed += quiet.failed
    finally:
        running.stop()  # flushes both services' spans and logs
    return stats, started, time.time_ns()


def test_shop_traffic_lands_with_the_expected_shapes_and_findings(server: InProcessServer) -> None:
    stats, started_ns, ended_ns = _run_shop(server)

    assert stats.sent == len(REQUESTS) and stats.failed == 0
    servers = _poll(
        server,
        "SELECT count() FROM {traces} WHERE ServiceName = 'shop' AND SpanKind = 'Server'",
        len(REQUESTS),
    )
    assert servers == len(REQUESTS)

    # N+1: every GET /orders has one items read per order, all under the server span.
    loops = _rows(
        server,
        f"SELECT s.TraceId, count() FROM {{traces}} AS s WHERE s.SpanAttributes['db.statement'] = '{ITEMS}'"
        " AND s.ParentSpanId IN (SELECT SpanId FROM {traces} WHERE SpanName = 'GET /orders')"
        " GROUP BY s.TraceId",
    )
    assert len(loops) == 6
    assert {count for _, count in loops} == {ORDERS_SHOWN}

    # Flaky: the failed payment quotes (a read) are the 504 answers, each a timeout recorded as an
    # exception; the charge (a write) follows every quote that answered and never fails.
    quotes = _rows(
        server,
        "SELECT StatusCode, has(Events.Name, 'exception'), "
        " arrayStringConcat(arrayMap(a -> a['exception.type'], Events.Attributes), ',')"
        " FROM {traces} WHERE ServiceName = 'shop' AND SpanKind = 'Client' AND SpanName = 'GET'"
        " AND SpanAttributes['http.url'] LIKE '%/payments/quote?%'",
    )
    assert len(quotes) == CHECKOUTS
    failed = [q for q in quotes if q[0] == "Error"]
    assert len(failed) == stats.statuses[504] > 0
    assert all(has_exception and "ReadTimeout" in types for _, has_exception, types in failed)
    charges = _rows(
        server,
        "SELECT StatusCode FROM {traces}"
        " WHERE ServiceName = 'shop' AND SpanKind = 'Client' AND SpanName = 'POST'",
    )
    assert len(charges) == stats.statuses[201]
    assert all(status != "Error" for (status,) in charges)

    # Sequential siblings: the three stub calls of each GET /home, each after the previous ended.
    calls = _rows(
        server,
        "SELECT TraceId,"
        " groupArray((toUnixTimestamp64Nano(Timestamp), Duration, SpanAttributes['http.url']))"
        " FROM {traces} WHERE SpanKind = 'Client' AND SpanName = 'GET' AND ServiceName = 'shop' "
        "AND ParentSpanId IN (SELECT SpanId FROM {traces} WHERE SpanName = 'GET /home') GROUP BY TraceId",
    )
    assert len(calls) == 4
    for _, siblings in calls:
        ordered = sorted(siblings)
        assert [url.split("/")[3].split("?")[0] for _, _, url in ordered] == [
            "users",
            "recommendations",
            "inventory",
        ]
        for (start, duration, _), (next_start, _, _) in itertools.pairwise(ordered):
            assert next_start >= start + duration

    # Repeated reads: one identical catalog read in every request.
    catalog = _rows(
        server,
        f"SELECT count(), uniq(TraceId) FROM {{traces}} WHERE SpanAttributes['db.statement'] = '{CATALOG}'",
    )
    assert catalog[0] == (len(REQUESTS), len(REQUESTS))

    # Logs: the failed checkouts' warnings, correlated with their traces.
    warnings = server.store.query_rows(
        f"SELECT count(), countIf(TraceId != '') FROM {server.store.table('otel_logs')} "
        "WHERE ServiceName = 'shop' AND SeverityText = 'WARN' AND Body LIKE 'checkout failed%'"
    )
    assert warnings[0] == (stats.statuses[504], stats.statuses[504])

    summary = analyze_window(server.store, Window(started_ns - 10**9, ended_ns + 10**9))
    kinds = Counter(f.kind for f in summary.findings)
    assert set(kinds) >= {"n_plus_one", "flaky_step", "parallelizable", "cacheable"}, kinds
    by_kind = {f.kind: f for f in summary.findings if f.service == "shop"}
    assert by_kind["n_plus_one"].parent_operation == "GET /orders"
    assert by_kind["parallelizable"].parent_operation == "GET /home"
    flaky = by_kind["flaky_step"]
    assert flaky.operations[0].startswith("GET ") and "/payments/quote" in flaky.operations[0]
    assert flaky.evidence.get("idempotent") is not False
