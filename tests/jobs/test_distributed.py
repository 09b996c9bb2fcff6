"""Distributed mode: a real redis-server, a real Celery worker and beat (``tsdev worker``/``beat``
processes) and a ClickHouse HTTP server shared by the worker and the test, against embedded mode.

chDB lets one process open a data directory, so the shared store is the chDB-backed ClickHouse HTTP
test server: the worker and this test both reach it over HTTP, as a real deployment would.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import IN_CI
from tests.jobs.support import loops, store_traces, window
from tests.support.clickhouse_server import ClickHouseServer
from tests.support.fixtures_clickhouse import clickhouse_server  # noqa: F401 (a fixture)
from tests.support.ports import free_port
from tests.support.process import TSDEV
from tests.support.spans import charge_calls, product_reads, profile_page
from tsdev.analysis.jobs import analyze_range, repository
from tsdev.analysis.jobs.distributed import ANALYZE_RANGE, create_app
from tsdev.core.settings import Settings
from tsdev.core.store import Store
from tsdev.core.store.client import Retention

pytestmark = pytest.mark.integration

TRACES = loops(1, 10, at_s=10) + charge_calls(1000) + [profile_page(i) for i in range(2000, 2020)]
TRACES += product_reads(300, count=20, every_s=10.0)


def _wait_for(condition: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert callable(condition)
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (scripts/test-services.sh installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    try:
        _wait_for(answers, 20, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(20)


class _Process:
    """A ``tsdev`` command in the background, its output kept for failure messages."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen([TSDEV, *args], env=env, stdout=out, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _env(tmp_path: Path, redis_url: str, clickhouse: ClickHouseServer) -> dict[str, str]:
    return {
        **os.environ,
        "TSDEV_REDIS_URL": redis_url,
        "TSDEV_CLICKHOUSE_URL": clickhouse.url,
        "TSDEV_CLICKHOUSE_DATABASE": "otel",
        "TSDEV_DATA_DIR": str(tmp_path / "worker"),
        "TSDEV_TRACES_TTL_DAYS": "0",
        "TSDEV_LOGS_TTL_DAYS": "0",
        "TSDEV_METRICS_TTL_DAYS": "0",
        "TSDEV_ANALYSIS_INTERVAL_SECONDS": "1",
    }


def _comparable(store: Store) -> dict[str, tuple[object, ...]]:
    return {
        r.fingerprint: (r.kind, r.service, r.status, r.traces_affected, r.times_seen, r.evidence)
        for r in repository.search(store, limit=1000)
    }


def test_a_celery_worker_and_beat_produce_the_findings_of_embedded_mode(
    tmp_path: Path,
    redis_url: str,
    clickhouse_server: ClickHouseServer,  # noqa: F811 (the imported fixture)
    fresh_store: Store,
) -> None:
    shared = Store.connect(clickhouse_server.url, "otel", Retention(0, 0, 0))
    store_traces(shared, TRACES)
    env = _env(tmp_path, redis_url, clickhouse_server)
    # Both processes start while the embedded pass runs: their start-up is most of this test's time.
    worker = _Process(["worker", "--pool", "solo"], env, tmp_path / "worker.log")
    beat = _Process(["beat"], env, tmp_path / "beat.log")
    try:
        store_traces(fresh_store, TRACES)
        analyze_range(fresh_store, window(0, 3600))
        embedded = _comparable(fresh_store)
        kinds = {kind for kind, *_ in embedded.values()}
        assert kinds == {"n_plus_one", "flaky_step", "parallelizable", "cacheable"}

        app = create_app(Settings(redis_url=redis_url, data_dir=tmp_path / "client"))
        span = window(0, 3600)
        result = app.send_task(ANALYZE_RANGE, args=[span.start_ns, span.end_ns])
        try:
            summary = result.get(timeout=120)
        except Exception as exc:
            raise AssertionError(f"the task failed or timed out:\n{worker.output()}") from exc
        assert sorted(summary["new"]) == sorted(embedded)
        assert _comparable(shared) == embedded

        _wait_for(
            lambda: repository.get_watermark(shared, "detectors") is not None,
            60,
            f"a scheduled pass to store its watermark:\n{beat.output()}\n{worker.output()}",
        )
    finally:
        beat.stop()
        worker.stop()
        shared.close()
