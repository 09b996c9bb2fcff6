"""``tsdev serve --role``: ``ingest`` runs only the OTLP receivers (health and self-metrics on the API
port), ``api`` only the API and its jobs, and both refuse the embedded store, which one process holds.

The in-process tests check what each role serves on the session's store; the process tests run the
split the way docker-compose.yml does, two ``tsdev serve`` processes sharing a ClickHouse server (the
chDB-backed HTTP server of ``tests.support.clickhouse_http``).
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import grpc
import httpx
import pytest
from typer.testing import CliRunner

from tests.support.clickhouse_server import ClickHouseServer
from tests.support.fixtures_clickhouse import clickhouse_server  # noqa: F401 (a fixture)
from tests.support.otlp import trace_request
from tests.support.process import TSDEV, ServeProcess
from tests.support.rows import count
from tests.support.server import InProcessServer
from tsdev.cli.main import app
from tsdev.core.settings import Settings
from tsdev.core.store import Store
from tsdev.server.roles import Parts, RoleError, describe, parts_of
from tsdev.server.runtime import Runtime

PROTOBUF = {"Content-Type": "application/x-protobuf"}
TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
SEARCH_PATHS = ("/api/v1/services", "/jaeger/api/services")
HEALTH_PATHS = ("/healthz", "/readyz", "/version", "/metrics")


def _batch(name: str, first_id: int, spans: int = 3) -> bytes:
    now = time.time_ns()
    return trace_request(
        "roles", name, spans, first_id=first_id, start_ns=now, duration_ns=1000
    ).SerializeToString()


def _trace_id(number: int) -> str:
    return number.to_bytes(16, "big").hex()


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _grpc_export(endpoint: str, body: bytes) -> None:
    with grpc.insecure_channel(endpoint) as channel:
        channel.unary_unary(TRACE_EXPORT)(body, timeout=10)


@pytest.mark.parametrize(
    ("role", "redis_url", "expected"),
    [
        ("all", "", Parts(receivers=True, full_api=True, jobs=True)),
        ("all", "redis://redis:6379/0", Parts(receivers=True, full_api=True, jobs=False)),
        ("ingest", "", Parts(receivers=True, full_api=False, jobs=False)),
        ("api", "", Parts(receivers=False, full_api=True, jobs=True)),
        ("api", "redis://redis:6379/0", Parts(receivers=False, full_api=True, jobs=False)),
    ],
)
def test_each_role_runs_its_parts_and_jobs_go_with_the_api(
    role: str, redis_url: str, expected: Parts
) -> None:
    settings = Settings.model_validate({"role": role, "redis_url": redis_url})

    assert parts_of(settings) == expected
    assert describe(settings).startswith(f"tsdev serving role {role}: ")


def test_ingest_role_receives_and_stores_but_serves_only_health_on_the_api_port(fresh_store: Store) -> None:
    server = InProcessServer(fresh_store, role="ingest").start()
    try:
        response = httpx.post(f"{server.otlp_url}/v1/traces", content=_batch("http", 1), headers=PROTOBUF)
        assert response.status_code == 200
        _grpc_export(server.grpc_endpoint, _batch("grpc", 101))
        for path in HEALTH_PATHS:
            assert httpx.get(f"{server.api_url}{path}").status_code == 200, path
        for path in SEARCH_PATHS:
            assert httpx.get(f"{server.api_url}{path}").status_code == 404, path
        assert server.runtime.scheduler is None and server.runtime.forecast_scheduler is None
    finally:
        server.stop()
    assert count(fresh_store, "otel_traces") == 6


def test_api_role_serves_search_and_no_receivers(fresh_store: Store) -> None:
    server = InProcessServer(fresh_store, role="api").start()
    try:
        for path in (*SEARCH_PATHS, *HEALTH_PATHS):
            assert httpx.get(f"{server.api_url}{path}").status_code == 200, path
        assert not _listening(server.settings.otlp_http_port)
        assert not _listening(server.settings.otlp_grpc_port)
        assert server.runtime.scheduler is not None, "without Redis the API process runs the jobs"
        assert not server.settings.effective_spool_dir.exists(), "no receivers, no spool"
    finally:
        server.stop()


@pytest.mark.integration
def test_ingest_and_api_processes_share_a_clickhouse_server(
    tmp_path: Path,
    clickhouse_server: ClickHouseServer,  # noqa: F811 (the imported fixture)
) -> None:
    env = {"TSDEV_CLICKHOUSE_URL": clickhouse_server.url, "TSDEV_TRACES_TTL_DAYS": "0"}
    ingest = ServeProcess(tmp_path / "ingest", args=["--role", "ingest"], **env).start()
    api = ServeProcess(tmp_path / "api", TSDEV_ROLE="api", **env)
    try:
        # The API starts once the ingest replica has migrated the store, as in docker-compose.yml.
        api.start()
        response = httpx.post(f"{ingest.otlp_url}/v1/traces", content=_batch("split", 1), headers=PROTOBUF)
        assert response.status_code == 200

        trace = httpx.get(f"{api.api_url}/api/v1/traces/{_trace_id(2)}")
        assert trace.status_code == 200, trace.text
        assert [span["name"] for span in trace.json()["spans"]] == ["split"]
        assert httpx.get(f"{ingest.api_url}/readyz").status_code == 200
        assert httpx.get(f"{ingest.api_url}/api/v1/traces/{_trace_id(2)}").status_code == 404
        assert not _listening(api.otlp_port) and not _listening(api.grpc_port)
        assert ingest.stop() == 0 and api.stop() == 0
    finally:
        ingest.kill()
        api.kill()
    assert "tsdev serving role ingest: OTLP/gRPC on" in ingest.log()
    assert "tsdev serving role api: the API on port" in api.log()


@pytest.mark.integration
def test_role_ingest_on_the_embedded_store_exits_naming_the_settings(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = subprocess.run(
        [TSDEV, "serve", "--role", "ingest", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2, result.stderr
    assert "role 'ingest' (TSDEV_ROLE / --role) needs a ClickHouse server" in result.stderr
    assert "TSDEV_CLICKHOUSE_URL" in result.stderr
    assert not data_dir.exists(), "refused before the store is opened"


def test_role_api_on_the_embedded_store_is_refused_before_the_store_opens(tmp_path: Path) -> None:
    settings = Settings.model_validate({"role": "api", "data_dir": tmp_path / "data"})

    with pytest.raises(RoleError, match=r"role 'api' \(TSDEV_ROLE / --role\) needs a ClickHouse server"):
        Runtime.open(settings)
    assert not settings.data_dir.exists()


def test_an_unknown_role_is_refused_naming_the_setting() -> None:
    result = CliRunner().invoke(app, ["serve"], env={"TSDEV_ROLE": "ingester"})

    assert result.exit_code == 2, result.output
    assert "invalid setting TSDEV_ROLE (--role): Input should be 'all', 'ingest' or 'api'" in result.output
