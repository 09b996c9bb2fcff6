"""``tsdev logs``: search log records, or follow them live."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tsdev.cli.client import DEFAULT_SERVER, ServerOption

SEVERITY_STYLES = [(21, "bold magenta"), (17, "red"), (13, "yellow"), (9, "green"), (5, "blue"), (0, "dim")]


def logs(
    service: Annotated[
        list[str] | None, typer.Option("--service", "-s", help="Only these services (repeatable)")
    ] = None,
    grep: Annotated[
        str | None,
        typer.Option("--grep", "-g", help='Words and "quoted phrases" the body must contain (any case)'),
    ] = None,
    severity: Annotated[
        str | None,
        typer.Option("--severity", help="Minimum severity: trace, debug, info, warn, error, fatal"),
    ] = None,
    trace_id: Annotated[str | None, typer.Option("--trace", help="Only records of this trace")] = None,
    since: Annotated[str, typer.Option("--since", help="How far back to search: 15m, 1h, 2d")] = "1h",
    tail: Annotated[
        int, typer.Option("--tail", "-n", min=1, max=1000, help="Show the N newest records")
    ] = 100,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new records until Ctrl-C")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per record")] = False,
    server: ServerOption = DEFAULT_SERVER,
) -> None:
    """Log records, oldest to newest, colored by severity, with their trace id."""
    import json

    from tsdev.cli.client import ApiClient
    from tsdev.cli.output import data

    filters: dict[str, Any] = {
        "service": service or [],
        "q": grep,
        "severity": severity,
        "trace_id": trace_id,
    }

    def show(record: dict[str, Any]) -> None:
        data(json.dumps(record) if as_json else format_record(record))

    with ApiClient(server) as client:
        page = client.get("/api/v1/logs", {**filters, "start": f"now-{since}", "limit": tail})
        for record in reversed(page["records"]):
            show(record)
        if follow:
            try:
                for record in client.stream("/api/v1/logs/stream", filters):
                    show(record)
            except KeyboardInterrupt:
                return


def format_record(record: dict[str, Any]) -> str:
    """``time  LEVEL  service  body  trace=<id>``, the level colored by severity number."""
    from rich.text import Text

    from tsdev.cli.render import render
    from tsdev.cli.timefmt import local_time

    number = int(record["severity_number"])
    style = next(style for floor, style in SEVERITY_STYLES if number >= floor)
    level = (record["severity_text"] or str(number)).upper()[:5]
    line = Text(local_time(record["time_unix_nano"]) + "  ", style="dim")
    line.append(f"{level:<5}", style=style)
    line.append(f"  {record['service_name']}  ", style="cyan")
    line.append(record["body"])
    if record["trace_id"]:
        line.append(f"  trace={record['trace_id']}", style="dim")
    return render(line)
