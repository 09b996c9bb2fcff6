"""Search latency through the HTTP API on a large embedded store.

Loads spans (20 per trace, 20 services, 10 operations each) and log records spread over the last
day, generated inside ClickHouse with ``INSERT ... SELECT FROM numbers()`` so loading is bound by the
engine rather than Python. Then serves the API in-process and measures p50/p99 of each query class
over random queries, JSON encoding included, and prints ``EXPLAIN indexes = 1`` of the statements
the query layer runs, to show which index answers each class.

    uv run python bench/query.py                      # the issue's 10M spans and 10M logs
    uv run python bench/query.py --spans 1000000 --logs 1000000 --queries 100
    uv run python bench/query.py --reuse              # measure again without reloading
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.recording import RecordingStore
from tests.support.red import services_from_minutes
from tsdev.core.query import TimeRange
from tsdev.core.query import logs as log_queries
from tsdev.core.query import services as service_queries
from tsdev.core.query import traces as trace_queries
from tsdev.core.query.services import ServiceStats
from tsdev.core.settings import Settings
from tsdev.core.store import Store
from tsdev.core.store.client import Retention
from tsdev.core.store.tables import TRACE_SUMMARY
from tsdev.server.api import create_api
from tsdev.server.runtime import Runtime

SPANS_PER_TRACE = 20
SERVICES = 20
OPERATIONS = 10
RARE_EVERY = 10_000
CHUNK = 1_000_000
DAY_NS = 86_400 * 10**9

SPANS_SQL = """
INSERT INTO {table} (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName,
                     ResourceAttributes, ScopeName, SpanAttributes, Duration, StatusCode)
SELECT
    fromUnixTimestamp64Nano(
        toInt64({start_ns} + intDiv(number, 20) * {trace_gap_ns} + (number % 20) * 1000000)),
    lower(concat(leftPad(hex(cityHash64(intDiv(number, 20), 'a')), 16, '0'),
                 leftPad(hex(cityHash64(intDiv(number, 20), 'b')), 16, '0'))),
    lower(leftPad(hex(cityHash64(number)), 16, '0')),
    if(number % 20 = 0, '',
       lower(leftPad(hex(cityHash64(number - number % 20 + intDiv(number % 20 - 1, 3))), 16, '0'))),
    concat('op-', toString(cityHash64(number, 'o') % {operations})),
    if(number % 20 = 0 OR number % 3 = 1, 'Server', 'Client'),
    concat('svc-', toString((intDiv(number, 20) + intDiv(number % 20, 4)) % {services})),
    map('service.name', concat('svc-', toString((intDiv(number, 20) + intDiv(number % 20, 4)) % {services})),
        'host.name', concat('node-', toString(number % 7))),
    'bench',
    map('http.request.method', 'GET', 'http.response.status_code',
        if(cityHash64(number, 'e') % 100 = 0, '500', '200')),
    (cityHash64(number, 'd') % 500000) * 1000,
    if(cityHash64(number, 'e') % 100 = 0, 'Error', 'Unset')
FROM numbers({first}, {count})
"""

LOGS_SQL = """
INSERT INTO {table} (Timestamp, TraceId, SpanId, SeverityText, SeverityNumber, ServiceName, Body,
                     ResourceAttributes, LogAttributes)
SELECT
    fromUnixTimestamp64Nano(toInt64({start_ns} + number * {log_gap_ns})),
    lower(concat(leftPad(hex(cityHash64(number % {traces}, 'a')), 16, '0'),
                 leftPad(hex(cityHash64(number % {traces}, 'b')), 16, '0'))),
    '',
    ['DEBUG', 'INFO', 'INFO', 'INFO', 'WARN', 'ERROR'][number % 6 + 1],
    [5, 9, 9, 9, 13, 17][number % 6 + 1],
    concat('svc-', toString(number % {services})),
    concat(['request handled', 'cache miss for key', 'db query finished', 'retrying connection to',
            'user logged in', 'payment authorized'][cityHash64(number) % 6 + 1],
           ' user-', toString(number % 100000),
           if(number % {rare_every} = 0, concat(' marker', toString(number)), '')),
    map('service.name', concat('svc-', toString(number % {services}))),
    map('request.id', toString(number % 1000))
FROM numbers({first}, {count})
"""


def load(store: Store, spans: int, logs: int) -> None:
    """Fill the store; the materialized views (trace-id lookup, trace summary, RED aggregates) fill
    on insert."""
    now = time.time_ns()
    traces = max(spans // SPANS_PER_TRACE, 1)
    start_ns = now - DAY_NS
    for first in range(0, spans, CHUNK):
        began = time.perf_counter()
        store.command(SPANS_SQL.format(
            table=store.table("otel_traces"), start_ns=start_ns, trace_gap_ns=DAY_NS // traces,
            operations=OPERATIONS, services=SERVICES, first=first, count=min(CHUNK, spans - first),
        ))  # fmt: skip
        print(f"  spans {first + CHUNK:>11,}  {time.perf_counter() - began:.1f}s", flush=True)
    for first in range(0, logs, CHUNK):
        began = time.perf_counter()
        store.command(LOGS_SQL.format(
            table=store.table("otel_logs"), start_ns=start_ns, log_gap_ns=DAY_NS // max(logs, 1),
            traces=traces, services=SERVICES, rare_every=RARE_EVERY, first=first,
            count=min(CHUNK, logs - first),
        ))  # fmt: skip
        print(f"  logs  {first + CHUNK:>11,}  {time.perf_counter() - began:.1f}s", flush=True)
    began = time.perf_counter()
    for table in (
        "otel_traces", "otel_logs", "otel_traces_trace_id_ts", TRACE_SUMMARY, service_queries.SERVICE_RED_1M,
        service_queries.SERVICE_KIND_RED_1M, service_queries.SERVICE_KIND_RED_1H,
    ):  # fmt: skip
        store.command(f"OPTIMIZE TABLE {store.table(table)} FINAL")
    print(f"  merged parts in {time.perf_counter() - began:.1f}s", flush=True)


class ApiServer:
    """The real API app under uvicorn on a free port, in a thread of this process (chDB's engine
    is per process, so the API must run where the store is open)."""

    def __init__(self, store: Store) -> None:
        settings = Settings(host="127.0.0.1", api_port=0, clickhouse_database=store.database)
        runtime = Runtime(settings, store)
        runtime.ready = True
        config = uvicorn.Config(
            create_api(runtime), host="127.0.0.1", port=0, log_config=None, access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def measure(client: httpx.Client, name: str, requests: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    client.get(
        requests[0][0], params=requests[0][1]
    )  # warm the connection and the caches the first query fills
    timings = []
    hits = 0
    for path, params in requests:
        began = time.perf_counter()
        response = client.get(path, params=params)
        response.raise_for_status()
        body = response.json()
        timings.append((time.perf_counter() - began) * 1000)
        hits += bool(
            next((body[k] for k in ("traces", "records", "spans", "services", "data") if k in body), None)
        )
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    result = {"class": name, "n": len(timings), "p50": statistics.median(timings), "p99": p99, "hits": hits}
    print(f"  measured {name}: p50 {result['p50']:.1f} ms, p99 {p99:.1f} ms", flush=True)
    return result


def explain(store: Store, title: str, call: Callable[[Any], object], keep: tuple[str, ...]) -> None:
    recording = RecordingStore(store)
    call(recording)
    print(f"\n-- EXPLAIN indexes = 1: {title}")
    for sql, params in recording.statements:
        for (line,) in store.query_rows("EXPLAIN indexes = 1 " + sql, params):
            if any(word in line for word in keep):
                print("   ", line)


def compare_services(store: Store, time_range: TimeRange) -> None:
    """The services table against the same figures merged from the per-minute, per-operation table
    (run twice, to show that those are stable and the difference comes from merging t-digest states
    in another grouping)."""
    minute = [services_from_minutes(store, time_range) for _ in range(2)]
    rollup = service_queries.list_services(store, time_range)

    def spread(a: list[ServiceStats], b: list[ServiceStats]) -> float:
        return max(
            abs(x - y) / y
            for sa, sb in zip(a, b, strict=True)
            for x, y in (
                (sa.red.p50_ns, sb.red.p50_ns),
                (sa.red.p95_ns, sb.red.p95_ns),
                (sa.red.p99_ns, sb.red.p99_ns),
            )
        )

    counts = [(s.name, s.red.requests, s.red.errors) for s in rollup]
    same = counts == [(s.name, s.red.requests, s.red.errors) for s in minute[0]]
    print(
        "\n-- services table vs the per-minute table over the last 24 h:"
        f" requests and errors {'equal' if same else 'DIFFERENT'};"
        f" quantiles differ by at most {spread(rollup, minute[0]):.4%}"
        f" (two runs on the per-minute table: {spread(minute[1], minute[0]):.4%})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spans", type=int, default=10_000_000)
    parser.add_argument("--logs", type=int, default=10_000_000)
    parser.add_argument("--queries", type=int, default=200, help="random queries per class")
    parser.add_argument("--path", type=Path, default=Path("/tmp/tsdev-bench-query"))
    parser.add_argument("--reuse", action="store_true", help="measure the store already at --path")
    args = parser.parse_args()

    if not args.reuse:
        shutil.rmtree(args.path, ignore_errors=True)
    store = Store.connect(f"chdb://{args.path}", "otel", Retention(0, 0, 0))
    if not args.reuse:
        print(f"loading {args.spans:,} spans and {args.logs:,} log records into {args.path}")
        began = time.perf_counter()
        load(store, args.spans, args.logs)
        print(f"loaded in {time.perf_counter() - began:.0f}s")
    counts = {
        t: store.query_rows(f"SELECT count() FROM {store.table(t)}")[0][0]
        for t in ("otel_traces", "otel_logs")
    }
    print(f"store holds {counts['otel_traces']:,} spans and {counts['otel_logs']:,} log records")

    rng = random.Random(7)
    lookup = store.table("otel_traces_trace_id_ts")
    trace_ids = [r[0] for r in store.query_rows(
        f"SELECT TraceId FROM {lookup} WHERE length(TraceId) = 32 ORDER BY cityHash64(TraceId) LIMIT 2000"
    )]  # fmt: skip
    rare = [r[0] for r in store.query_rows(
        f"SELECT extract(Body, 'marker[0-9]+') FROM {store.table('otel_logs')}"
        " WHERE hasToken(lower(Body), 'marker0') OR Body LIKE '%marker%' LIMIT 2000"
    )]  # fmt: skip
    n = args.queries
    classes: dict[str, list[tuple[str, dict[str, Any]]]] = {
        "trace by id": [(f"/api/v1/traces/{rng.choice(trace_ids)}", {}) for _ in range(n)],
        "trace by id (Jaeger)": [(f"/jaeger/api/traces/{rng.choice(trace_ids)}", {}) for _ in range(n)],
        "trace search service+operation+duration": [
            (
                "/api/v1/traces",
                {
                    "service": f"svc-{rng.randrange(SERVICES)}",
                    "operation": f"op-{rng.randrange(OPERATIONS)}",
                    "min_duration": f"{rng.randrange(100, 450)}ms",
                    "start": "now-25h",
                    "limit": 20,
                },
            )
            for _ in range(n)
        ],
        "log search, rare term, whole range": [
            ("/api/v1/logs", {"q": rng.choice(rare), "start": "now-25h", "limit": 100}) for _ in range(n)
        ],
        "services table (24h)": [("/api/v1/services", {"start": "now-24h"}) for _ in range(n)],
    }
    with ApiServer(store) as url, httpx.Client(base_url=url, timeout=120) as client:
        results = [measure(client, name, requests) for name, requests in classes.items()]
    print(f"\n{'query class':<42}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}{'hits':>7}")
    for r in results:
        print(f"{r['class']:<42}{r['n']:>6}{r['p50']:>10.1f}{r['p99']:>10.1f}{r['hits']:>7}")

    day = TimeRange.last(DAY_NS + 3600 * 10**9)
    explain(
        store,
        "trace by id (lookup table, then spans)",
        lambda s: trace_queries.get_trace(s, trace_ids[0]),
        ("ReadFromMergeTree", "PrimaryKey", "Keys", "Condition", "Granules", "Name: idx_trace_id", "Skip"),
    )
    explain(
        store,
        "trace search by service + operation + duration",
        lambda s: trace_queries.search_traces(
            s, trace_queries.TraceQuery(day, service="svc-3", operation="op-4", min_duration_ns=300_000_000)
        ),
        ("ReadFromMergeTree", "PrimaryKey", "Keys", "Condition", "Granules", "Skip", "Name:"),
    )
    explain(
        store,
        "log search for a rare term",
        lambda s: log_queries.search_logs(s, log_queries.LogQuery(day, text=rare[0])),
        ("ReadFromMergeTree", "PrimaryKey", "Condition", "Granules", "Skip", "Name:"),
    )
    explain(
        store,
        "services table (hourly rows, then minute rows at the edges)",
        lambda s: service_queries.list_services(s, TimeRange.last(DAY_NS)),
        ("ReadFromMergeTree", "PrimaryKey", "Condition", "Granules"),
    )
    compare_services(store, TimeRange.last(DAY_NS))
    store.close()


if __name__ == "__main__":
    main()
