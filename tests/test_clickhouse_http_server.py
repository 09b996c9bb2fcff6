"""The chDB-backed ClickHouse HTTP server works with clickhouse-connect's HTTP client, unchanged.

Server-mode and outage tests rely on it, so it is checked here the way tsdev uses it: connection set-up,
commands, bound parameters, Native and Arrow in both directions with the OpenTelemetry column types,
HTTP compression, settings, sessions, errors, persistence across restarts, and tsdev's own store.
"""

from __future__ import annotations

import gzip
import json
import threading
import uuid
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import clickhouse_connect
import httpx
import lz4.frame  # type: ignore[import-untyped]
import pyarrow as pa
import pytest
from backports import zstd
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError
from clickhouse_connect.driver.summary import QuerySummary

from tests.support.clickhouse_server import ClickHouseServer
from tests.support.fixtures_clickhouse import clickhouse_server  # noqa: F401
from tests.support.rows import fetch
from tsdev.core.store import MIGRATIONS, Store
from tsdev.core.store.client import Retention

pytestmark = pytest.mark.integration

OTEL_COLUMNS = """
    Timestamp DateTime64(9),
    ServiceName LowCardinality(String),
    Attributes Map(LowCardinality(String), String),
    Events Nested (
        Timestamp DateTime64(9), Name LowCardinality(String), Attributes Map(LowCardinality(String), String)
    ),
    Duration UInt64
"""
MAP = pa.map_(pa.string(), pa.string())
# Nanoseconds that a microsecond-based client would lose.
T0 = 1_700_000_000_123_456_789


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseServer]:
    server = ClickHouseServer(tmp_path_factory.mktemp("clickhouse-http") / "data").start()
    yield server
    server.stop()


@pytest.fixture
def database(shared_server: ClickHouseServer) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = clickhouse_connect.get_client(dsn=shared_server.url)
    admin.command(f"CREATE DATABASE {name}")
    yield name
    admin.command(f"DROP DATABASE IF EXISTS {name}")
    admin.close()


@pytest.fixture
def client(shared_server: ClickHouseServer, database: str) -> Iterator[Client]:
    client = clickhouse_connect.get_client(dsn=f"{shared_server.url}/{database}")
    yield client
    client.close()


def otel_arrow(rows: int, service: str = "checkout") -> pa.Table:
    return pa.table(
        {
            "Timestamp": pa.array([T0 + i for i in range(rows)], type=pa.timestamp("ns")),
            "ServiceName": pa.array([service] * rows).dictionary_encode(),
            "Attributes": pa.array(
                [[("http.route", f"/orders/{i}"), ("i", str(i))] for i in range(rows)], MAP
            ),
            "Events.Timestamp": pa.array([[T0 + i + 1] for i in range(rows)], pa.list_(pa.timestamp("ns"))),
            "Events.Name": pa.array([["exception"] for _ in range(rows)], pa.list_(pa.string())),
            "Events.Attributes": pa.array(
                [[[("exception.type", "KeyError")]] for _ in range(rows)], pa.list_(MAP)
            ),
            "Duration": pa.array([1_000 * i for i in range(rows)], pa.uint64()),
        }
    )


def create_otel_table(client: Client, name: str = "spans") -> None:
    client.command(
        f"CREATE TABLE {name} ({OTEL_COLUMNS}) ENGINE = MergeTree ORDER BY (ServiceName, Timestamp)"
    )


def raw(server: ClickHouseServer, query: str, **params: str) -> httpx.Response:
    return httpx.post(f"http://127.0.0.1:{server.port}/", params=params, content=query.encode(), timeout=30)


# -- the HTTP surface -------------------------------------------------------------------------------


def test_ping_and_headers_are_clickhouses(shared_server: ClickHouseServer) -> None:
    ping = httpx.get(f"http://127.0.0.1:{shared_server.port}/ping")
    assert (ping.status_code, ping.text) == (200, "Ok.\n")

    response = httpx.get(
        f"http://127.0.0.1:{shared_server.port}/", params={"query": "SELECT 1 + 1, 'a'", "query_id": "q-1"}
    )
    assert response.status_code == 200
    assert response.text == "2\ta\n"
    assert response.headers["X-ClickHouse-Query-Id"] == "q-1"
    assert response.headers["X-ClickHouse-Format"] == "TabSeparated"
    assert response.headers["X-ClickHouse-Timezone"]
    assert response.headers["X-ClickHouse-Server-Display-Name"]
    assert json.loads(response.headers["X-ClickHouse-Summary"])["read_rows"] == "1"

    ddl = raw(shared_server, "CREATE DATABASE IF NOT EXISTS headers_probe")
    assert ddl.status_code == 200
    assert "X-ClickHouse-Format" not in ddl.headers


def test_client_connects_and_learns_version_timezone_and_settings(shared_server: ClickHouseServer) -> None:
    client = clickhouse_connect.get_client(dsn=shared_server.url)
    version = raw(shared_server, "SELECT version()").text.strip()
    assert client.server_version == version
    assert client.server_tz is not None
    assert "max_execution_time" in client.server_settings
    assert client.command("SELECT currentDatabase()") == "default"


def test_command_returns_values_and_a_summary(client: Client) -> None:
    assert client.command("SELECT 41 + 1") == 42
    assert client.command("SELECT 'a', 'b'") == ["a", "b"]
    summary = client.command("CREATE TABLE kv (k String, v UInt8) ENGINE = MergeTree ORDER BY k")
    assert isinstance(summary, QuerySummary)
    assert summary.query_id()
    client.command("INSERT INTO kv VALUES ('x', 1), ('y', 2)")
    assert client.command("SELECT sum(v) FROM kv") == 3


def test_query_binds_parameters_on_the_server(client: Client) -> None:
    result = client.query(
        "SELECT {n:UInt32} * 2 AS twice, {s:String} AS s, length({xs:Array(String)}) AS n",
        parameters={"n": 21, "s": "it's a \\ test\t", "xs": ["a", "b", "c"]},
    )
    assert result.column_names == ("twice", "s", "n")
    assert result.result_rows == [(42, "it's a \\ test\t", 3)]


def test_long_parameters_go_through_a_multipart_form(client: Client) -> None:
    ids = [uuid.uuid4().hex for _ in range(300)]  # far past the client's URL budget for parameters
    result = client.query(
        "SELECT length({ids:Array(String)}), {ids:Array(String)}[300]", parameters={"ids": ids}
    )
    assert result.result_rows == [(300, ids[-1])]


def test_insert_native_and_query_native_keep_otel_column_types(client: Client) -> None:
    create_otel_table(client)
    at = datetime(2024, 5, 1, 12, 30, 15, 123456)
    rows = [
        [at, "checkout", {"http.route": "/cart"}, [at], ["exception"], [{"exception.type": "KeyError"}], 7],
        [at, "payments", {}, [], [], [], 8],
    ]
    names = ["Timestamp", "ServiceName", "Attributes", "Events.Timestamp", "Events.Name", "Events.Attributes"]
    client.insert("spans", rows, column_names=[*names, "Duration"])

    result = client.query("SELECT * FROM spans ORDER BY ServiceName")
    assert result.column_types[0].name == "DateTime64(9)"
    assert result.column_types[1].name == "LowCardinality(String)"
    assert [row[0].replace(tzinfo=None) for row in result.result_rows] == [at, at]
    assert [row[1:] for row in result.result_rows] == [
        ("checkout", {"http.route": "/cart"}, [at], ["exception"], [{"exception.type": "KeyError"}], 7),
        ("payments", {}, [], [], [], 8),
    ]
    assert result.summary["query_id"]


def test_insert_arrow_and_query_arrow_round_trip_nanoseconds_maps_and_nested(client: Client) -> None:
    create_otel_table(client)
    table = otel_arrow(50)
    summary = client.insert_arrow("spans", table)
    assert summary.written_rows == 50

    back = client.query_arrow("SELECT * FROM spans ORDER BY Timestamp")
    assert back.num_rows == 50
    assert back["Timestamp"].cast(pa.int64()).to_pylist() == [T0 + i for i in range(50)]
    assert back["Events.Timestamp"].to_pylist()[3][0].value == T0 + 4
    assert back["Attributes"].to_pylist()[7] == [("http.route", "/orders/7"), ("i", "7")]
    assert back["Events.Attributes"].to_pylist()[0] == [[("exception.type", "KeyError")]]
    assert set(back["ServiceName"].to_pylist()) == {"checkout"}
    assert back["Duration"].to_pylist()[-1] == 49_000


@pytest.mark.parametrize("compress", [True, "zstd", "gzip", False])
def test_every_http_compression_the_client_negotiates(
    shared_server: ClickHouseServer, database: str, compress: bool | str
) -> None:
    client = clickhouse_connect.get_client(dsn=f"{shared_server.url}/{database}", compress=compress)
    create_otel_table(client)
    client.insert_arrow("spans", otel_arrow(20))
    client.insert("spans", [[datetime(2024, 1, 1), "native", {"k": "v"}, [], [], [], 1]])
    assert client.query("SELECT count() FROM spans").result_rows == [(21,)]
    assert client.query_arrow("SELECT * FROM spans").num_rows == 21


@pytest.mark.parametrize(
    ("encoding", "decompress"),
    [
        ("lz4", lz4.frame.decompress),
        ("zstd", zstd.decompress),
        ("gzip", gzip.decompress),
        ("deflate", zlib.decompress),
    ],
)
def test_responses_are_compressed_when_asked(
    shared_server: ClickHouseServer, encoding: str, decompress: Callable[[bytes], bytes]
) -> None:
    with httpx.stream(
        "POST",
        f"http://127.0.0.1:{shared_server.port}/",
        params={"enable_http_compression": "1"},
        content=b"SELECT number FROM numbers(1000)",
        headers={"Accept-Encoding": f"br;q=1.0, {encoding}"},
    ) as response:
        assert response.headers["Content-Encoding"] == encoding
        body = b"".join(response.iter_raw())
    assert decompress(body).splitlines()[-1] == b"999"


def test_insert_with_the_statement_in_the_body(shared_server: ClickHouseServer, database: str) -> None:
    assert (
        raw(shared_server, f"CREATE TABLE {database}.kv (k String, v UInt8) ENGINE = Memory").status_code
        == 200
    )
    inserted = raw(shared_server, f"INSERT INTO {database}.kv FORMAT TabSeparated\nx\t1\ny\t2\n")
    assert inserted.status_code == 200
    assert json.loads(inserted.headers["X-ClickHouse-Summary"])["written_rows"] == "2"
    assert raw(shared_server, f"SELECT k FROM {database}.kv ORDER BY k").text == "x\ny\n"


# -- errors, settings, sessions ---------------------------------------------------------------------


def test_errors_surface_as_database_errors_with_clickhouses_message(
    shared_server: ClickHouseServer, client: Client
) -> None:
    with pytest.raises(DatabaseError, match="SYNTAX_ERROR") as syntax:
        client.command("SELEC 1")
    assert syntax.value.code == 62
    with pytest.raises(DatabaseError, match="UNKNOWN_TABLE") as unknown:
        client.query("SELECT * FROM no_such_table")
    assert unknown.value.code == 60
    with pytest.raises(DatabaseError, match="UNKNOWN_TABLE"):
        client.insert("no_such_table", [[1]], column_names=["x"])

    response = raw(shared_server, "SELECT * FROM nowhere.nothing")
    assert response.status_code == 404
    assert response.headers["X-ClickHouse-Exception-Code"] == "81"
    assert response.text.startswith("Code: 81. DB::Exception: ")


def test_url_settings_apply_to_one_query_only(shared_server: ClickHouseServer, client: Client) -> None:
    limited = {"max_result_rows": 5, "result_overflow_mode": "throw"}
    with pytest.raises(DatabaseError, match="TOO_MANY_ROWS_OR_BYTES"):
        client.query("SELECT number FROM numbers(10)", settings=limited)
    # Same client, same session: the limit is gone again.
    assert len(client.query("SELECT number FROM numbers(10)").result_rows) == 10

    with pytest.raises(DatabaseError) as timeout:
        client.query(
            "SELECT count() FROM numbers(100000000000)",
            settings={"max_execution_time": 0.2, "timeout_overflow_mode": "throw"},
        )
    assert timeout.value.code == 159  # TIMEOUT_EXCEEDED

    ignored = raw(shared_server, "SELECT 1", no_such_setting="1")
    assert (ignored.status_code, ignored.text) == (200, "1\n")


def test_sessions_keep_their_state_and_stay_apart(shared_server: ClickHouseServer) -> None:
    first = clickhouse_connect.get_client(dsn=shared_server.url, session_id=f"s-{uuid.uuid4()}")
    second = clickhouse_connect.get_client(dsn=shared_server.url, session_id=f"s-{uuid.uuid4()}")
    first.command("CREATE TEMPORARY TABLE scratch (x UInt8)")
    first.command("INSERT INTO scratch VALUES (1), (2)")
    assert first.command("SELECT sum(x) FROM scratch") == 3
    with pytest.raises(DatabaseError, match="UNKNOWN_TABLE"):
        second.command("SELECT sum(x) FROM scratch")

    missing = raw(shared_server, "SELECT 1", session_id=f"s-{uuid.uuid4()}", session_check="1")
    assert missing.headers["X-ClickHouse-Exception-Code"] == "372"


def test_several_clients_insert_at_once(shared_server: ClickHouseServer, database: str) -> None:
    create_otel_table(clickhouse_connect.get_client(dsn=f"{shared_server.url}/{database}"))
    errors: list[BaseException] = []

    def insert(worker: int) -> None:
        try:
            client = clickhouse_connect.get_client(dsn=f"{shared_server.url}/{database}")
            for _ in range(5):
                client.insert_arrow("spans", otel_arrow(100, service=f"svc-{worker}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=insert, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    client = clickhouse_connect.get_client(dsn=f"{shared_server.url}/{database}")
    counts = client.query(
        "SELECT ServiceName, count() FROM spans GROUP BY ServiceName ORDER BY 1"
    ).result_rows
    assert counts == [(f"svc-{worker}", 500) for worker in range(4)]


# -- tsdev's store and restarts ---------------------------------------------------------------------


def test_tsdev_store_migrates_and_reads_like_the_embedded_store(
    shared_server: ClickHouseServer, fresh_store: Store
) -> None:
    database = f"t_{uuid.uuid4().hex[:12]}"
    store = Store.connect(shared_server.url, database, Retention(traces_days=0, logs_days=0, metrics_days=0))
    try:
        assert not store.is_embedded
        assert store.schema_version() == MIGRATIONS[-1].version
        tables = {row[0] for row in store.query_rows(f"SHOW TABLES FROM {database}")}
        assert {"otel_traces", "otel_logs", "otel_metrics_sum"} <= tables
        assert tables == {
            row[0] for row in fresh_store.query_rows(f"SHOW TABLES FROM {fresh_store.database}")
        }

        spans = otel_arrow(10).rename_columns(
            ["Timestamp", "ServiceName", "SpanAttributes", "Events.Timestamp", "Events.Name",
             "Events.Attributes", "Duration"]
        )  # fmt: skip
        store.insert_arrow("otel_traces", spans)
        fresh_store.insert_arrow("otel_traces", spans)
        over_http = fetch(store, "otel_traces", order_by="Timestamp")
        embedded = fetch(fresh_store, "otel_traces", order_by="Timestamp")
        assert len(over_http) == 10
        assert over_http == embedded
        sql = (
            "SELECT ServiceName, count() FROM {db:Identifier}.otel_traces"
            " WHERE Duration >= {d:UInt64} GROUP BY ServiceName"
        )
        assert store.query_rows(sql, {"db": database, "d": 5000}) == [("checkout", 5)]
        assert fresh_store.query_rows(sql, {"db": fresh_store.database, "d": 5000}) == [("checkout", 5)]
    finally:
        store.command(f"DROP DATABASE IF EXISTS {database}")
        store.close()


def test_data_survives_a_stop_and_a_kill(clickhouse_server: ClickHouseServer) -> None:  # noqa: F811
    def count() -> Any:
        return clickhouse_connect.get_client(dsn=clickhouse_server.url).command("SELECT count() FROM spans")

    create_otel_table(clickhouse_connect.get_client(dsn=clickhouse_server.url))
    clickhouse_connect.get_client(dsn=clickhouse_server.url).insert_arrow("spans", otel_arrow(30))

    assert clickhouse_server.stop() == 0
    assert not clickhouse_server.ping()
    with pytest.raises(OperationalError):
        clickhouse_connect.get_client(dsn=clickhouse_server.url, connect_timeout=1)

    clickhouse_server.start()
    assert count() == 30
    clickhouse_connect.get_client(dsn=clickhouse_server.url).insert_arrow("spans", otel_arrow(12))
    clickhouse_server.kill()
    clickhouse_server.start()
    assert count() == 42


def test_server_refuses_what_it_does_not_implement(shared_server: ClickHouseServer) -> None:
    response = raw(shared_server, "SELECT 1", compress="1")
    assert response.status_code == 500
    assert response.headers["X-ClickHouse-Exception-Code"] == "48"


def test_server_logs_one_line_per_query(shared_server: ClickHouseServer) -> None:
    marker = uuid.uuid4().hex
    raw(shared_server, f"SELECT '{marker}'\n  AS marker")
    lines = [line for line in Path(shared_server.log_path).read_text().splitlines() if marker in line]
    assert len(lines) == 1
    assert f"SELECT '{marker}' AS marker" in lines[0]
