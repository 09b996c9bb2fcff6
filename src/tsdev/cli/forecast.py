"""``tsdev forecast SERVICE``: the request-rate forecast as a table, a sparkline and optionally a plot.

The table shows a handful of evenly spaced points (the whole horizon would not fit a screen), the
sparkline the shape of the median over the horizon, and ``--plot`` writes a PNG with the last days of
history, the forecast and its intervals, so a person can judge the forecast against what came before.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from tsdev.cli.client import DEFAULT_SERVER, ServerOption
from tsdev.cli.output import EXIT_USAGE
from tsdev.core.timezones import ServiceZones

SPARK = "▁▂▃▄▅▆▇█"
TABLE_ROWS = 12
PLOT_QUANTILES = "0.05,0.1,0.5,0.9,0.95"


def sparkline(values: list[float], width: int = 60) -> str:
    """Block characters scaled from the smallest to the largest value, averaged down to ``width``."""
    if not values:
        return ""
    size = max(1, -(-len(values) // width))
    means = [sum(values[i : i + size]) / len(values[i : i + size]) for i in range(0, len(values), size)]
    low, high = min(means), max(means)
    if high <= low:
        return SPARK[0] * len(means)
    return "".join(SPARK[min(len(SPARK) - 1, int((v - low) / (high - low) * len(SPARK)))] for v in means)


def forecast(
    service: Annotated[str, typer.Argument(help="Service name (service.name)")],
    horizon: Annotated[str, typer.Option("--horizon", help="How far ahead: 48h, 2d")] = "48h",
    step: Annotated[str, typer.Option("--step", help="Spacing of points: 5m, 1h")] = "1h",
    operation: Annotated[str | None, typer.Option("--operation", help="One operation (span name)")] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write a PNG with history, forecast and intervals")
    ] = None,
    history: Annotated[str, typer.Option("--history", help="History shown in the plot: 3d, 12h")] = "3d",
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON")] = False,
    timezone: Annotated[
        str,
        typer.Option(
            "--timezone",
            envvar="TSDEV_FORECAST_TIMEZONE",
            help="Show times in this IANA zone (Europe/Berlin); read as the server reads the variable",
        ),
    ] = "UTC",
    server: ServerOption = DEFAULT_SERVER,
) -> None:
    """Forecast of a service's request rate (requests per minute) with its 80% and 90% intervals."""
    import json

    from tsdev.cli.client import ApiClient
    from tsdev.cli.output import abort, data, info

    try:
        zone = ZoneInfo(ServiceZones.parse(timezone).for_service(service))
    except ValueError as error:
        abort(f"--timezone: {error}", EXIT_USAGE)

    params = {"horizon": horizon, "step": step, "quantiles": PLOT_QUANTILES, "operation": operation}
    with ApiClient(server) as client:
        body = client.get(f"/api/v1/forecast/{service}", params)
        past = (
            client.get(f"/api/v1/series/{service}", _history_params(history, step, operation))
            if plot is not None
            else None
        )
    if as_json:
        data(json.dumps(body, indent=2))
    else:
        data(_render(body, zone))
    if body.get("cold_start"):
        info(f"note: {body['message']}")
    if plot is not None:
        _plot(body, _history_points(past), plot, zone)
        info(f"plot written to {plot}")


def _history_params(history: str, step: str, operation: str | None) -> dict[str, str | None]:
    return {"since": history, "step": step, "operation": operation}


def _history_points(body: Any) -> list[tuple[str, float]]:
    """History as ``(time, requests per minute)`` from the series endpoint; outages left out."""
    if not isinstance(body, dict):
        return []
    return [(p["timestamp"], float(p["value"])) for p in body.get("points", []) if p["value"] is not None]


def _wall(timestamp: str, zone: ZoneInfo) -> datetime:
    """An API timestamp (UTC, ``...Z``) as naive wall-clock time in ``zone``."""
    moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(zone).replace(tzinfo=None)


def _render(body: dict[str, Any], zone: ZoneInfo) -> str:
    from rich.table import Table

    from tsdev.cli.render import render

    points = body["points"]
    every = max(1, len(points) // TABLE_ROWS)
    table = Table(f"Time ({zone.key})", "p10", "median", "p90", "p95", box=None, pad_edge=False)
    for point in points[::every]:
        q = point["quantiles"]
        table.add_row(
            _wall(point["timestamp"], zone).strftime("%Y-%m-%d %H:%M"),
            *(f"{q[k]:.1f}" for k in ("0.1", "0.5", "0.9", "0.95")),
        )
    header = (
        f"{body['service']}{'/' + body['operation'] if body.get('operation') else ''}: "
        f"requests per minute, fitted {body['fitted_at']} with {body['model']}"
    )
    median = [p["quantiles"]["0.5"] for p in points]
    spark = f"{sparkline(median)}  {min(median):.1f} .. {max(median):.1f} /min" if median else ""
    return "\n".join([header, render(table), spark])


def _plot(body: dict[str, Any], past: list[tuple[str, float]], path: Path, zone: ZoneInfo) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    def when(texts: list[str]) -> np.ndarray:  # wall-clock time in ``zone``, as the axis label says
        return np.array([_wall(t, zone) for t in texts], dtype="datetime64[s]")

    points = body["points"]
    times = when([p["timestamp"] for p in points])
    q = {k: [p["quantiles"][k] for p in points] for k in ("0.05", "0.1", "0.5", "0.9", "0.95")}
    fig, ax = plt.subplots(figsize=(11, 4))
    if past:
        ax.plot(when([t for t, _ in past]), [v for _, v in past], color="0.3", lw=0.8, label="history")
    ax.fill_between(times, q["0.05"], q["0.95"], color="tab:blue", alpha=0.15, label="90% interval")
    ax.fill_between(times, q["0.1"], q["0.9"], color="tab:blue", alpha=0.3, label="80% interval")
    ax.plot(times, q["0.5"], color="tab:blue", lw=1.2, label="median forecast")
    ax.set_ylabel("requests / min")
    ax.set_xlabel(zone.key)
    ax.set_title(f"{body['service']}: {body['model']}", fontsize=9)
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
