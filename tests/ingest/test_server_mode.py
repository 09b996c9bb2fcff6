"""Server mode (an ``http://`` DSN) against a ClickHouse HTTP server: outages are spooled to disk
and replayed without loss or doubles, several receivers share one store, and ``kill -9`` of a
receiver loses nothing it acknowledged."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import clickhouse_connect
import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from tests.support.clickhouse_server import ClickHouseServer
from tests.support.process import ServeProcess, read_store

pytestmark = pytest.mark.integration
PROTOBUF = {"Content-Type": "application/x-protobuf"}
SPANS_PER_REQUEST = 20
NOW = time.time_ns()


def _batch(tag: str) -> bytes:
    resource = Resource(attributes=[KeyValue(key="service.name", value=AnyValue(string_value="mode"))])
    spans = [
        Span(
            trace_id=(i + 1).to_bytes(16, "big"),
            span_id=(i + 1).to_bytes(8, "big"),
            name=tag,
            start_time_unix_nano=NOW,
            end_time_unix_nano=NOW + 1000,
        )
        for i in range(SPANS_PER_REQUEST)
    ]
    request = ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(resource=resource, scope_spans=[ScopeSpans(spans=spans)])]
    )
    return request.SerializeToString()


def _send(receiver: ServeProcess, tag: str) -> int:
    return httpx.post(
        f"{receiver.otlp_url}/v1/traces", content=_batch(tag), headers=PROTOBUF, timeout=30
    ).status_code


def _counts(clickhouse: ClickHouseServer) -> dict[str, int]:
    client = clickhouse_connect.get_client(dsn=clickhouse.url)
    try:
        rows = client.query("SELECT SpanName, count() FROM otel.otel_traces GROUP BY SpanName").result_rows
    finally:
        client.close()
    return {name: count for name, count in rows}


def _wait_for(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def clickhouse(tmp_path: Path) -> Iterator[ClickHouseServer]:
    server = ClickHouseServer(tmp_path / "clickhouse").start()
    yield server
    server.stop()


def _receiver(tmp_path: Path, name: str, clickhouse: ClickHouseServer) -> ServeProcess:
    return ServeProcess(tmp_path / name, TSDEV_CLICKHOUSE_URL=clickhouse.url).start()


def test_outage_is_spooled_then_replayed_without_loss_or_doubles(
    tmp_path: Path, clickhouse: ClickHouseServer
) -> None:
    receiver = _receiver(tmp_path, "receiver", clickhouse)
    try:
        assert _send(receiver, "before") == 200
        clickhouse.stop()
        during = [f"during-{n}" for n in range(5)]
        assert [_send(receiver, tag) for tag in during] == [200] * 5
        metrics = httpx.get(f"{receiver.api_url}/metrics").text
        assert 'tsdev_spool_rows_total{table="otel_traces"} 100.0' in metrics
        assert httpx.get(f"{receiver.api_url}/readyz").status_code == 503
        clickhouse.start()
        expected = {"before": SPANS_PER_REQUEST, **dict.fromkeys(during, SPANS_PER_REQUEST)}
        assert _wait_for(lambda: _counts(clickhouse) == expected), _counts(clickhouse)
        assert _send(receiver, "after") == 200
        assert _counts(clickhouse) == {**expected, "after": SPANS_PER_REQUEST}
        assert not any((tmp_path / "receiver" / "spool").glob("*.seg"))
    finally:
        receiver.stop()


def test_several_receivers_share_one_store(tmp_path: Path, clickhouse: ClickHouseServer) -> None:
    first = _receiver(tmp_path, "first", clickhouse)
    second = _receiver(tmp_path, "second", clickhouse)
    try:
        with ThreadPoolExecutor(4) as pool:
            codes = list(pool.map(lambda n: _send(first if n % 2 else second, f"r{n}"), range(20)))
        assert codes == [200] * 20
        assert _counts(clickhouse) == {f"r{n}": SPANS_PER_REQUEST for n in range(20)}
    finally:
        assert first.stop() == 0
        assert second.stop() == 0


def test_kill_9_loses_nothing_acknowledged(tmp_path: Path) -> None:
    data_dir = tmp_path / "embedded"
    env = {"TSDEV_TRACES_TTL_DAYS": "0"}
    acknowledged: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()

    def flood(receiver: ServeProcess, prefix: str) -> None:
        with httpx.Client(timeout=30) as client:
            for n in range(10_000):
                tag = f"{prefix}-{n}"
                try:
                    response = client.post(
                        f"{receiver.otlp_url}/v1/traces", content=_batch(tag), headers=PROTOBUF
                    )
                except httpx.TransportError:
                    return
                if response.status_code == 200:
                    with lock:
                        acknowledged.append(tag)
                        if len(acknowledged) >= 30:
                            enough.set()

    receiver = ServeProcess(data_dir, **env).start()
    try:
        with ThreadPoolExecutor(3) as pool:
            futures = [pool.submit(flood, receiver, f"w{w}") for w in range(3)]
            assert enough.wait(60), receiver.log()
            receiver.kill()
            for future in futures:
                future.result()
    finally:
        receiver.kill()
    restarted = ServeProcess(data_dir, **env).start()
    try:
        assert _send(restarted, "after-restart") == 200
    finally:
        assert restarted.stop() == 0
    stored = dict(read_store(data_dir, "SELECT SpanName, count() FROM otel.otel_traces GROUP BY SpanName"))
    assert stored.get("after-restart") == SPANS_PER_REQUEST
    missing = [tag for tag in acknowledged if stored.get(tag, 0) < SPANS_PER_REQUEST]
    assert missing == []


def test_a_full_spool_pushes_back_instead_of_accepting(tmp_path: Path, clickhouse: ClickHouseServer) -> None:
    receiver = ServeProcess(
        tmp_path / "receiver", TSDEV_CLICKHOUSE_URL=clickhouse.url, TSDEV_SPOOL_MAX_BYTES="1"
    ).start()
    try:
        clickhouse.stop()
        response = httpx.post(
            f"{receiver.otlp_url}/v1/traces", content=_batch("refused"), headers=PROTOBUF, timeout=30
        )
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        clickhouse.start()
        assert _wait_for(lambda: _send(receiver, "accepted") == 200)
        counts = _counts(clickhouse)
        assert counts.get("refused") is None
        assert counts.get("accepted", 0) >= SPANS_PER_REQUEST
    finally:
        receiver.stop()
