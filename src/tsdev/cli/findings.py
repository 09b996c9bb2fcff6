"""``tsdev findings``: what the analysis found, most time saved per hour first; ``tsdev finding ID``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tsdev.cli.client import DEFAULT_SERVER, ServerOption

KINDS = "n_plus_one, flaky_step, parallelizable, cacheable or seasonality"
STATUSES = "open, acknowledged, ignored, resolved or regressed"


def findings(
    kind: Annotated[str | None, typer.Option("--kind", "-k", help=f"Only this kind: {KINDS}")] = None,
    service: Annotated[str | None, typer.Option("--service", "-s", help="Only this service")] = None,
    status: Annotated[str | None, typer.Option("--status", help=f"Only this status: {STATUSES}")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help="Most findings")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON")] = False,
    server: ServerOption = DEFAULT_SERVER,
) -> None:
    """Findings as a table sorted by estimated impact (time the fix saves per hour of traffic)."""
    import json

    from tsdev.cli.client import ApiClient
    from tsdev.cli.output import data

    params = {"kind": kind, "service": service, "status": status, "limit": limit}
    with ApiClient(server) as client:
        body = client.get("/api/v1/findings", params)
    data(json.dumps(body, indent=2) if as_json else findings_table(body["findings"]))


def finding(
    finding_id: Annotated[str, typer.Argument(help="The finding's id (its fingerprint, v1:...)")],
    server: ServerOption = DEFAULT_SERVER,
) -> None:
    """One finding with its full evidence and the API paths of its example traces, as JSON."""
    import json

    from tsdev.cli.client import ApiClient
    from tsdev.cli.output import data

    with ApiClient(server) as client:
        data(json.dumps(client.get(f"/api/v1/findings/{finding_id}"), indent=2))


def findings_table(rows: list[dict[str, Any]]) -> str:
    """Largest saving first, whatever order the rows came in (the analyze command merges passes)."""
    from rich.table import Table

    from tsdev.cli.render import render

    table = Table(
        "Saved/h",
        "Severity",
        "Kind",
        "Service",
        "Finding",
        "Traces",
        "Status",
        "Id",
        box=None,
        pad_edge=False,
    )
    for row in sorted(rows, key=lambda r: (-r["estimated_saving_ms_per_hour"], r["id"])):
        table.add_row(
            _saving(row["estimated_saving_ms_per_hour"]), row["severity"], row["kind"], row["service"],
            row["title"], str(row["traces_affected"]), row["status"], row["id"],
            style={"high": "red", "medium": "yellow"}.get(row["severity"]),
        )  # fmt: skip
    return render(table)


def _saving(ms_per_hour: float) -> str:
    from tsdev.cli.timefmt import duration

    return duration(ms_per_hour * 1e6)
