"""``tsdev services``: the RED table (rate, errors, duration) per service."""

from __future__ import annotations

from typing import Annotated

import typer

from tsdev.cli.client import DEFAULT_SERVER, ServerOption

SinceOption = Annotated[str, typer.Option("--since", help="How far back: 15m, 1h, 2d")]


def services(
    since: SinceOption = "1h",
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON")] = False,
    server: ServerOption = DEFAULT_SERVER,
) -> None:
    """Every service seen, with requests, error rate and p50/p95/p99 latency of its server spans."""
    import json

    from rich.table import Table

    from tsdev.cli.client import ApiClient
    from tsdev.cli.output import data
    from tsdev.cli.render import render
    from tsdev.cli.timefmt import duration

    with ApiClient(server) as client:
        body = client.get("/api/v1/services", {"start": f"now-{since}"})
    if as_json:
        data(json.dumps(body, indent=2))
        return
    table = Table("Service", "Requests", "Errors", "Error %", "p50", "p95", "p99", box=None, pad_edge=False)
    for row in body["services"]:
        style = "red" if row["errors"] else None
        table.add_row(
            row["name"], str(row["requests"]), str(row["errors"]), f"{100 * row['error_rate']:.1f}",
            *(duration(row[k] * 1e6) if row["requests"] else "-" for k in ("p50_ms", "p95_ms", "p99_ms")),
            style=style,
        )  # fmt: skip
    data(render(table))
