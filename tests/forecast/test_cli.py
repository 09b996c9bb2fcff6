"""``tsdev forecast`` against the in-process server."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from tests.support.server import InProcessServer
from tests.support.traffic import send_requests
from tsdev.cli.forecast import SPARK, sparkline
from tsdev.cli.main import app
from tsdev.cli.output import EXIT_FAILURE, EXIT_USAGE

runner = CliRunner()


def test_sparkline_spans_the_range() -> None:
    line = sparkline([0, 1, 2, 3, 4, 5, 6, 7])
    assert line == SPARK
    assert sparkline([3.0] * 5) == SPARK[0] * 5
    assert len(sparkline(list(range(1000)), width=50)) == 50


def test_forecast_prints_a_table_and_a_sparkline_and_writes_a_plot(
    server: InProcessServer, tmp_path: Path
) -> None:
    send_requests(server.otlp_url, "checkout", minutes=15, per_minute=4)
    png = tmp_path / "checkout.png"
    result = runner.invoke(
        app, ["forecast", "checkout", "--server", server.api_url, "--horizon", "12h", "--plot", str(png)]
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("checkout: requests per minute, fitted")
    assert "median" in lines[1] and "p95" in lines[1]
    assert len(lines) == 2 + 12 + 1  # header, column names, one row an hour, sparkline
    assert lines[-1].endswith("/min") and lines[-1][0] in SPARK
    assert "under 2 days" in result.stderr  # the cold start is said, not hidden
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_forecast_errors_exit_with_their_codes(server: InProcessServer) -> None:
    send_requests(server.otlp_url, "checkout", minutes=2, per_minute=1)
    missing = runner.invoke(app, ["forecast", "nobody", "--server", server.api_url])
    assert missing.exit_code == EXIT_FAILURE and "nobody" in missing.stderr
    bad = runner.invoke(app, ["forecast", "checkout", "--server", server.api_url, "--horizon", "soon"])
    assert bad.exit_code == EXIT_USAGE and "horizon" in bad.stderr


def test_forecast_shows_times_in_the_asked_time_zone(server: InProcessServer) -> None:
    send_requests(server.otlp_url, "checkout", minutes=5, per_minute=2)
    rows = {}
    for zone in ("UTC", "Asia/Kathmandu"):  # UTC+05:45 all year
        result = runner.invoke(app, ["forecast", "checkout", "--server", server.api_url, "--timezone", zone])
        assert result.exit_code == 0, result.stderr
        lines = result.stdout.splitlines()
        assert f"Time ({zone})" in lines[1]
        rows[zone] = datetime.strptime(" ".join(lines[2].split()[:2]), "%Y-%m-%d %H:%M")
    # The second run may start a minute or two later than the first, never earlier.
    shift = rows["Asia/Kathmandu"] - rows["UTC"]
    assert timedelta(hours=5, minutes=45) <= shift <= timedelta(hours=5, minutes=48)
    bad = runner.invoke(app, ["forecast", "checkout", "--server", server.api_url, "--timezone", "Nowhere/X"])
    assert bad.exit_code == EXIT_USAGE and "unknown time zone" in bad.stderr
    # The server's setting, exceptions and all, read for the service asked about.
    mapped = runner.invoke(
        app,
        ["forecast", "checkout", "--server", server.api_url],
        env={"TSDEV_FORECAST_TIMEZONE": "UTC,checkout=Asia/Kathmandu"},
    )
    assert mapped.exit_code == 0, mapped.stderr
    assert "Time (Asia/Kathmandu)" in mapped.stdout.splitlines()[1]
