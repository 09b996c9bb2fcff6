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
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.otlp_payloads import log_request, trace_request
from tests.support.ports import free_port
from tsdev.core.store import Store
from tsdev.core.store.client import Retention
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


def _client(job: tuple[str, str, str, int, int]) -> int:
    """One client process: send ``count`` requests and return how many were acknowledged."""
    transport, signal_name, target, count, offset = job
    bodies = _payloads(signal_name, count, offset)
    acknowledged = 0
    if transport == "http":
        with httpx.Client(timeout=120) as client:
            for body in bodies:
                response = client.post(
                    f"{target}/v1/{signal_name}",
                    content=body,
                    headers={"Content-Type": "application/x-protobuf"},
                )
                acknowledged += response.status_code == 200
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


class Server:
    def __init__(self, data_dir: Path) -> None:
        self.http_port, self.grpc_port, self.api_port = free_port(), free_port(), free_port()
        env = {
            **os.environ,
            "TSDEV_TRACES_TTL_DAYS": "0",
            "TSDEV_LOGS_TTL_DAYS": "0",
            "TSDEV_LOG_LEVEL": "warning",
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
    transport: str, signal_name: str, requests: int, clients: int
) -> tuple[float, int, int, float]:
    """Items per second stored, items acknowledged, items stored, server peak RSS in MB."""
    with tempfile.TemporaryDirectory(prefix="tsdev-bench-") as directory:
        data_dir = Path(directory) / "data"
        server = Server(data_dir)
        target = (
            f"http://127.0.0.1:{server.http_port}" if transport == "http" else f"127.0.0.1:{server.grpc_port}"
        )
        share = requests // clients
        jobs = [(transport, signal_name, target, share, n * share) for n in range(clients)]
        with multiprocessing.get_context("spawn").Pool(clients) as pool:
            pool.map(_payloads_warm, [signal_name] * clients)
            started = time.perf_counter()
            acknowledged = sum(pool.map(_client, jobs)) * ITEMS_PER_REQUEST
            elapsed = time.perf_counter() - started
        peak = server.peak_rss_mb()
        server.stop()
        table = "otel_traces" if signal_name == "traces" else "otel_logs"
        stored = _count(data_dir, table)
        return stored / elapsed, acknowledged, stored, peak


def _payloads_warm(signal_name: str) -> None:
    _payloads(signal_name, 1)


def decode_floor(bodies: list[bytes]) -> float:
    started = time.perf_counter()
    for body in bodies:
        TRACES.parse(body, json_body=False)
    return len(bodies) * ITEMS_PER_REQUEST / (time.perf_counter() - started)


def decoder_rate(bodies: list[bytes]) -> float:
    started = time.perf_counter()
    for body in bodies:
        for rows in TRACES.decode(body, json_body=False).rows:
            rows.to_arrow()
    return len(bodies) * ITEMS_PER_REQUEST / (time.perf_counter() - started)


def storage_floor(bodies: list[bytes]) -> float:
    tables = [rows.to_arrow() for body in bodies for rows in TRACES.decode(body, json_body=False).rows]
    with tempfile.TemporaryDirectory(prefix="tsdev-bench-store-") as directory:
        store = Store.connect(f"chdb://{directory}", "otel")
        store.migrate(store_retention_off())
        started = time.perf_counter()
        for table in tables:
            store.insert_arrow("otel_traces", table)
        elapsed = time.perf_counter() - started
        store.close()
    rows: int = sum(table.num_rows for table in tables)
    return rows / elapsed


def store_retention_off() -> Retention:
    return Retention(0, 0, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=60, help="requests per run (1000 items each)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client processes")
    arguments = parser.parse_args()

    bodies = _payloads("traces", min(arguments.requests, 20))
    LOGS.decode(_payloads("logs", 1)[0], json_body=False)
    TRACES.decode(bodies[0], json_body=False).rows[0].to_arrow()
    print(
        f"payload: {ITEMS_PER_REQUEST} spans per request, {len(bodies[0]) / 1024:.0f} KiB each; "
        f"{arguments.requests} requests from {arguments.clients} client processes; {os.cpu_count()} cores"
    )
    floor_decode = decode_floor(bodies)
    floor_decoder = decoder_rate(bodies)
    floor_storage = storage_floor(bodies)
    print(f"decode floor (protobuf parse only):        {floor_decode:>10,.0f} spans/s")
    print(f"tsdev decoder (parse + columns + Arrow):   {floor_decoder:>10,.0f} spans/s")
    print(f"storage floor (insert_arrow into chDB):    {floor_storage:>10,.0f} spans/s")
    for transport in ("http", "grpc"):
        rate, acknowledged, stored, peak = end_to_end(
            transport, "traces", arguments.requests, arguments.clients
        )
        print(
            f"end to end, {transport:4} traces: {rate:>10,.0f} spans/s stored "
            f"(acknowledged {acknowledged:,}, stored {stored:,}); "
            f"ratio to decode floor {rate / floor_decode:.2f}, to storage floor {rate / floor_storage:.2f}; "
            f"server peak RSS {peak:,.0f} MB (in-flight budget 256 MB)"
        )
    rate, acknowledged, stored, peak = end_to_end("http", "logs", arguments.requests, arguments.clients)
    print(
        f"end to end, http logs:   {rate:>10,.0f} logs/s stored "
        f"(acknowledged {acknowledged:,}, stored {stored:,}); server peak RSS {peak:,.0f} MB"
    )


if __name__ == "__main__":
    main()
