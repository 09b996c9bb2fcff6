"""``tsdev logs``, ``traces``, ``trace`` and ``services`` against the in-process server."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from tests.search.data import World
from tests.support.server import InProcessServer
from tsdev.cli import client
from tsdev.cli.main import app
from tsdev.cli.output import EXIT_UNAVAILABLE, EXIT_USAGE
from tsdev.core import environment_variables
from tsdev.core.store import Store

runner = CliRunner()


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_env_names_match_the_declared_ones() -> None:
    assert client.TSDEV_SERVER == environment_variables.TSDEV_SERVER
    assert client.TSDEV_TOKEN == environment_variables.TSDEV_TOKEN


def test_logs_oldest_to_newest_with_trace_ids(server: InProcessServer, world: World) -> None:
    code, out, _ = _run("logs", "--server", server.api_url, "--service", "payments")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3
    assert "Connection refused by upstream db-1" in lines[0] and f"trace={world.error_trace}" in lines[0]
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}  ERROR  payments", lines[0])
    assert "DROP TABLE" in lines[2]


def test_logs_filters_and_json(server: InProcessServer, world: World) -> None:
    code, out, _ = _run(
        "logs", "--server", server.api_url, "--grep", "refused", "--severity", "error", "--json"
    )
    assert code == 0
    [record] = [json.loads(line) for line in out.splitlines()]
    assert record["body"] == "Connection refused by upstream db-1"
    code, out, _ = _run("logs", "--server", server.api_url, "--tail", "2", "--since", "1h")
    assert code == 0 and len(out.splitlines()) == 2


def test_server_from_the_environment(server: InProcessServer, world: World) -> None:
    code, out, _ = _run("services", env={"TSDEV_SERVER": server.api_url})
    assert code == 0 and "payments" in out


def test_services_table(server: InProcessServer, world: World) -> None:
    code, out, _ = _run("services", "--server", server.api_url)
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == ["Service", "Requests", "Errors", "Error", "%", "p50", "p95", "p99"]
    cells = {row.split()[0]: row.split()[1:4] for row in rows}
    assert cells == {"frontend": ["3", "0", "0.0"], "payments": ["2", "1", "50.0"]}


def test_traces_table_and_json(server: InProcessServer, world: World) -> None:
    code, out, _ = _run("traces", "--server", server.api_url, "--errors")
    assert code == 0
    assert world.error_trace in out and world.ok_trace not in out
    assert "frontend: GET /checkout" in out and "300ms" in out
    args = ["--service", "payments", "--min-duration", "1ms", "--json"]
    code, out, _ = _run("traces", "--server", server.api_url, *args)
    assert [t["trace_id"] for t in json.loads(out)["traces"]] == [world.error_trace, world.ok_trace]


def test_trace_waterfall(server: InProcessServer, world: World) -> None:
    code, out, _ = _run("trace", world.error_trace, "--server", server.api_url)
    assert code == 0
    lines = out.splitlines()
    rows = [line for line in lines if ": " in line]
    assert [row.split("  ")[0].rstrip() for row in rows[:1]] == ["frontend: GET /checkout"]
    assert rows[1].startswith("  frontend: POST /pay")
    assert rows[2].startswith("    payments: charge") and "! card declined" in rows[2]
    bars = [row.count("█") for row in rows]
    assert bars[0] == 40 and bars[0] > bars[1] > bars[2] > 0  # scaled to the whole trace
    assert "270ms" in rows[2]


def test_absent_trace_fails_with_a_message(server: InProcessServer) -> None:
    code, _, err = _run("trace", "ef" * 16, "--server", server.api_url)
    assert code == 1 and "not found" in err


def test_bad_parameter_is_a_usage_error(server: InProcessServer) -> None:
    code, _, err = _run("logs", "--server", server.api_url, "--severity", "loud")
    assert code == EXIT_USAGE and "severity" in err


def test_unreachable_server_is_explained() -> None:
    code, _, err = _run("services", "--server", "http://127.0.0.1:9")
    assert code == EXIT_UNAVAILABLE
    assert "cannot reach the tsdev server at http://127.0.0.1:9" in err and "TSDEV_SERVER" in err


@pytest.fixture
def guarded(fresh_store: Store) -> Iterator[InProcessServer]:
    running = InProcessServer(fresh_store, api_tokens=("s3cret",)).start()
    yield running
    running.stop()


def test_wrong_token_is_explained(guarded: InProcessServer) -> None:
    code, _, err = _run("services", "--server", guarded.api_url, env={"TSDEV_TOKEN": "nope"})
    assert code == EXIT_USAGE and "refused the API token" in err and "TSDEV_TOKEN" in err
    code, _, _ = _run("services", "--server", guarded.api_url, env={"TSDEV_TOKEN": "s3cret"})
    assert code == 0
