"""Ingest benchmark: end-to-end spans/s and logs/s acknowledged *and stored*, against two floors.

Run with ``uv run python bench/ingest.py`` (``--help`` for sizes). It prints, from one run:

* the end-to-end rate: ``tsdev serve`` on an embedded store, fed by client processes over OTLP/HTTP
  protobuf and over OTLP/gRPC, counting only rows that reached ClickHouse;
* the decode floor: the rate at which the same payloads are merely parsed by protobuf;
* the storage floor: the rate of a direct column insert of the same rows into the store;
* both ratios, and the server's peak memory next to its in-flight budget.

This is a benchmark, not a test: it asserts nothing and the machine's noise shows in its figures.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.otlp_payloads import log_request, trace_request
from tests.support.ports import free_port
from tsdev.core.store import Store
from tsdev.core.store.client import Retention
from tsdev.ingest.engine import commit_in_engine
from tsdev.ingest.signals import LOGS, TRACES

TSDEV = str(Path(sys.executable).parent / "tsdev")
ITEMS_PER_REQUEST = 1000
GRPC_METHODS = {
    "traces": "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "logs": "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
}


def _payloads(signal_name: str, count: int, offset: int = 0) -> list[bytes]:
    make = trace_request if signal_name == "traces" else log_request
    return [make(seed) for seed in range(offset, offset + count)]


def _send(transport: str, signal_name: str, target: str, bodies: list[bytes]) -> int:
    """Send ``bodies`` one after another on one connection; return how many were acknowledged."""
    acknowledged = 0
    if transport == "http":
        # The standard library's client: the load generator shares the machine with the server, and
        # it spends about half the CPU per request that httpx does.
        address = urllib.parse.urlsplit(target)
        connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=120)
        try:
            for body in bodies:
                connection.request(
                    "POST", f"/v1/{signal_name}", body, {"Content-Type": "application/x-protobuf"}
                )
                response = connection.getresponse()
                response.read()
                acknowledged += response.status == 200
        finally:
            connection.close()
    else:
        with grpc.insecure_channel(target, options=[("grpc.max_send_message_length", 64 << 20)]) as channel:
            export = channel.unary_unary(GRPC_METHODS[signal_name])
            for body in bodies:
                try:
                    export(body, timeout=120)
                    acknowledged += 1
                except grpc.RpcError:
                    pass
    return acknowledged


def _client(job: ClientJob, ready: Any, go: Any, results: Any) -> None:
    """One client process: build its requests, wait for the start, send them over ``job.streams``
    concurrent connections, and report (acknowledged, finish time)."""
    bodies = _payloads(job.signal_name, job.count, job.offset)
    streams = [bodies[n :: job.streams] for n in range(job.streams)]
    ready.release()
    go.wait()
    with ThreadPoolExecutor(job.streams) as pool:
        acknowledged = sum(
            pool.map(lambda share: _send(job.transport, job.signal_name, job.target, share), streams)
        )
    results.put((acknowledged, time.perf_counter()))


@dataclass(frozen=True)
class ClientJob:
    transport: str
    signal_name: str
    target: str
    count: int
    offset: int
    streams: int


class Server:
    def __init__(self, data_dir: Path, extra_env: dict[str, str]) -> None:
        self.http_port, self.grpc_port, self.api_port = free_port(), free_port(), free_port()
        env = {
            **os.environ,
            "TSDEV_TRACES_TTL_DAYS": "0",
            "TSDEV_LOGS_TTL_DAYS": "0",
            "TSDEV_LOG_LEVEL": "warning",
            **extra_env,
        }
        command = [
            TSDEV,
            "serve",
            "--data-dir",
            str(data_dir),
            "--otlp-http-port",
            str(self.http_port),
            "--otlp-grpc-port",
            str(self.grpc_port),
            "--api-port",
            str(self.api_port),
        ]
        self.process = subprocess.Popen(command, env=env)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.api_port}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise TimeoutError("tsdev serve did not become ready")

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(120)


def _count(data_dir: Path, table: str) -> int:
    script = (
        "import sys, clickhouse_connect\n"
        "client = clickhouse_connect.get_client(dsn='chdb://' + sys.argv[1])\n"
        "print(client.command(f'SELECT count() FROM otel.{sys.argv[2]}'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(data_dir / "clickhouse"), table],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(result.stdout.strip().splitlines()[-1])


def end_to_end(
    transport: str, signal_name: str, requests: int, clients: int, streams: int, env: dict[str, str]
) -> tuple[float, int, int, float]:
    """Items per second stored, items acknowledged, items stored, server peak RSS in MB.

    Clients build their requests first; the clock runs from the common start signal to the last
    acknowledgement (a request is acknowledged only once its rows are committed)."""
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="tsdev-bench-") as directory:
        data_dir = Path(directory) / "data"
        server = Server(data_dir, env)
        target = (
            f"http://127.0.0.1:{server.http_port}" if transport == "http" else f"127.0.0.1:{server.grpc_port}"
        )
        share = requests // clients
        ready, go, results = context.Semaphore(0), context.Event(), context.Queue()
        processes = [
            context.Process(
                target=_client,
                args=(
                    ClientJob(transport, signal_name, target, share, n * share, streams),
                    ready,
                    go,
                    results,
                ),
            )
            for n in range(clients)
        ]
        for process in processes:
            process.start()
        for _ in processes:
            ready.acquire()
        started = time.perf_counter()
        go.set()
        outcomes = [results.get() for _ in processes]
        for process in processes:
            process.join()
        acknowledged = sum(count for count, _ in outcomes) * ITEMS_PER_REQUEST
        elapsed = max(finished for _, finished in outcomes) - started
        peak = server.peak_rss_mb()
        server.stop()
        table = "otel_traces" if signal_name == "traces" else "otel_logs"
        stored = _count(data_dir, table)
        return stored / elapsed, acknowledged, stored, peak


def decode_floor(bodies: list[bytes]) -> float:
    started = time.perf_counter()
    for body in bodies:
        TRACES.parse(body, json_body=False)
    return len(bodies) * ITEMS_PER_REQUEST / (time.perf_counter() - started)


def _python_tables(body: bytes) -> list[pa.Table]:
    return [rows.to_arrow() for rows in TRACES.decode(body, json_body=False).rows]


def decoder_rate(bodies: list[bytes]) -> float:
    started = time.perf_counter()
    for body in bodies:
        _python_tables(body)
    return len(bodies) * ITEMS_PER_REQUEST / (time.perf_counter() - started)


def storage_floor(bodies: list[bytes], rows_per_insert: int) -> float:
    """Spans per second of ``insert_arrow`` of the decoded rows, ``rows_per_insert`` at a time."""
    decoded = [table for body in bodies for table in _python_tables(body)]
    per_table = max(1, rows_per_insert // ITEMS_PER_REQUEST)
    tables = [pa.concat_tables(decoded[n : n + per_table]) for n in range(0, len(decoded), per_table)]
    with _scratch_store() as store:
        started = time.perf_counter()
        for table in tables:
            store.insert_arrow("otel_traces", table)
        elapsed = time.perf_counter() - started
    return sum(int(table.num_rows) for table in tables) / elapsed


def engine_rate(bodies: list[bytes], requests_per_insert: int) -> float:
    """Spans per second of the engine path alone: parse and count in Python, then ClickHouse reads
    and flattens the protobuf bodies, ``requests_per_insert`` per statement."""
    with _scratch_store() as store:
        started = time.perf_counter()
        for n in range(0, len(bodies), requests_per_insert):
            batch = [
                rows
                for body in bodies[n : n + requests_per_insert]
                for rows in TRACES.decode_for_engine(body).engine_rows
            ]
            left = commit_in_engine(store, "otel_traces", batch)
            if left:
                raise RuntimeError("the bench's requests should all take the engine path")
        elapsed = time.perf_counter() - started
    return len(bodies) * ITEMS_PER_REQUEST / elapsed


@contextlib.contextmanager
def _scratch_store() -> Iterator[Store]:
    with tempfile.TemporaryDirectory(prefix="tsdev-bench-store-") as directory:
        store = Store.connect(f"chdb://{directory}", "otel", Retention(0, 0, 0))
        try:
            yield store
        finally:
            store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1920, help="requests per run (1000 items each)")
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--streams", type=int, default=48, help="concurrent connections per client process")
    arguments = parser.parse_args()
    requests, clients, streams = arguments.requests, arguments.clients, arguments.streams
    # The most requests one insert of the end-to-end runs can hold: every connection has one request
    # waiting, up to the writer's default of 100,000 rows an insert.
    batch = max(1, min(clients * streams, 100_000 // ITEMS_PER_REQUEST))

    bodies = _payloads("traces", min(requests, 2 * batch))
    LOGS.decode(_payloads("logs", 1)[0], json_body=False)
    _python_tables(bodies[0])
    print(
        f"payload: {ITEMS_PER_REQUEST} spans per request, {len(bodies[0]) / 1024:.0f} KiB each; "
        f"{requests} requests from {clients} client processes x {streams} connections; "
        f"{os.cpu_count()} cores"
    )
    floor_decode = decode_floor(bodies)
    floor_decoder = decoder_rate(bodies)
    floor_storage = storage_floor(bodies, ITEMS_PER_REQUEST)
    floor_storage_batched = storage_floor(bodies, batch * ITEMS_PER_REQUEST)
    engine = engine_rate(bodies, batch)
    rows = f"{batch * ITEMS_PER_REQUEST:,}-row inserts"
    print(f"decode floor (protobuf parse only):                 {floor_decode:>10,.0f} spans/s")
    print(f"Python decoder (parse + columns + Arrow):           {floor_decoder:>10,.0f} spans/s")
    print(f"storage floor (insert_arrow, 1,000-row inserts):    {floor_storage:>10,.0f} spans/s")
    print(f"storage floor (insert_arrow, {rows}):  {floor_storage_batched:>10,.0f} spans/s")
    print(f"engine path (parse + ClickHouse flattens, {batch} req.): {engine:>10,.0f} spans/s")
    runs = [
        ("http", "traces", {}, "engine path"),
        ("grpc", "traces", {}, "engine path"),
        ("http", "traces", {"TSDEV_INGEST_ENGINE_DECODE": "false"}, "Python decoder"),
    ]
    for transport, signal_name, env, label in runs:
        rate, acknowledged, stored, peak = end_to_end(transport, signal_name, requests, clients, streams, env)
        print(
            f"end to end, {transport:4} traces, {label:14}: {rate:>10,.0f} spans/s stored "
            f"(acknowledged {acknowledged:,}, stored {stored:,}); "
            f"ratio to decode floor {rate / floor_decode:.2f}, "
            f"to storage floor {rate / floor_storage:.2f} (batched {rate / floor_storage_batched:.2f}); "
            f"server peak RSS {peak:,.0f} MB (in-flight budget 256 MB)"
        )
    rate, acknowledged, stored, peak = end_to_end("http", "logs", requests, clients, streams, {})
    print(
        f"end to end, http logs:   {rate:>10,.0f} logs/s stored "
        f"(acknowledged {acknowledged:,}, stored {stored:,}); server peak RSS {peak:,.0f} MB"
    )


if __name__ == "__main__":
    main()
