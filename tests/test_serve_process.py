"""``tsdev serve`` as users run it: it starts on the embedded store, stops cleanly on SIGTERM and
Ctrl-C with everything acknowledged stored, and keeps its data across restarts."""

from __future__ import annotations

import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support.otlp import trace_request
from tests.support.process import ServeProcess, read_store

pytestmark = pytest.mark.integration
PROTOBUF = {"Content-Type": "application/x-protobuf"}


def _batch(tag: str, spans: int = 50) -> bytes:
    request = trace_request("proc", tag, spans, start_ns=1_700_000_000_000_000_000, duration_ns=1000)
    return request.SerializeToString()


def _span_count(data_dir: Path, where: str = "1") -> int:
    return int(read_store(data_dir, f"SELECT count() FROM otel.otel_traces WHERE {where}")[0][0])


def test_restart_keeps_data_and_the_version_endpoint_answers(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = ServeProcess(data_dir, TSDEV_TRACES_TTL_DAYS="0").start()
    try:
        assert (
            httpx.post(f"{first.otlp_url}/v1/traces", content=_batch("first"), headers=PROTOBUF).status_code
            == 200
        )
        version = httpx.get(f"{first.api_url}/version").json()
        assert version["embedded"] is True and version["schema_version"] >= 1
    finally:
        assert first.stop() == 0
    second = ServeProcess(data_dir, TSDEV_TRACES_TTL_DAYS="0").start()
    try:
        assert (
            httpx.post(f"{second.otlp_url}/v1/traces", content=_batch("second"), headers=PROTOBUF).status_code
            == 200
        )
    finally:
        assert second.stop(signal.SIGINT) == 0
    assert _span_count(data_dir, "SpanName = 'first'") == 50
    assert _span_count(data_dir, "SpanName = 'second'") == 50
    assert "everything acknowledged is stored" in second.log()


def test_sigterm_under_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = ServeProcess(data_dir, TSDEV_TRACES_TTL_DAYS="0").start()
    acknowledged: list[str] = []
    enough = threading.Event()
    lock = threading.Lock()

    def send(worker: int) -> None:
        with httpx.Client(timeout=30) as client:
            for n in range(200):
                tag = f"w{worker}-{n}"
                try:
                    response = client.post(
                        f"{server.otlp_url}/v1/traces", content=_batch(tag), headers=PROTOBUF
                    )
                except httpx.TransportError:
                    return
                if response.status_code != 200:
                    return
                with lock:
                    acknowledged.append(tag)
                    if len(acknowledged) >= 20:
                        enough.set()

    try:
        with ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(send, worker) for worker in range(4)]
            assert enough.wait(60), server.log()
            assert server.stop() == 0
            for future in futures:
                future.result()
    finally:
        server.kill()
    assert len(acknowledged) >= 20
    stored = read_store(data_dir, "SELECT SpanName, count() FROM otel.otel_traces GROUP BY SpanName")
    per_tag = {name: n for name, n in stored}
    missing = [tag for tag in acknowledged if per_tag.get(tag) != 50]
    assert missing == []
