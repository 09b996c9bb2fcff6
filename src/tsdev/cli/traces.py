"""``tsdev traces`` (search) and ``tsdev trace ID`` (the span tree as a waterfall)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tsdev.cli.client import DEFAULT_SERVER, ServerOption

BAR_WIDTH = 40


def traces(
    service: Annotated[str | None, typer.Option("--service", "-s", help="A span of this service")] = None,
    operation: Annotated[str | None, typer.Option("--operation", "-o", help="A span with this name")] = None,
    errors: Annotated[bool, typer.Option("--errors", help="Only traces with an error span")] = False,
    min_duration: Annotated[
        str | None, typer.Option("--min-duration", help="A span at least this long: 250ms")
    ] = None,
    max_duration: Annotated[
        str | None, typer.Option("--max-duration", help="A span at most this long")
    ] = None,
    attr: Annotated[
        list[str] | None, typer.Option("--attr", help="Span attribute key=value (repeatable)")
    ] = None,
    grep: Annotated[str | None, typer.Option("--grep", "-g", help="Text in the span name")] = None,
    since: Annotated[str, typer.Option("--since", help="How far back: 15m, 1h, 2d")] = "1h",
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help="Most traces to list")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON")] = False,
    server: ServerOption = DEFAULT_SERVER,
) -> None:
    """Traces with a span matching every filter, newest first."""
    import json

    from rich.table import Table

    from tsdev.cli.client import ApiClient
    from tsdev.cli.output import data
    from tsdev.cli.render import render
    from tsdev.cli.timefmt import duration, local_time

    params = {
        "service": service, "operation": operation, "status": "error" if errors else None,
        "min_duration": min_duration, "max_duration": max_duration, "attr": attr or [], "q": grep,
        "start": f"now-{since}", "limit": limit,
    }  # fmt: skip
    with ApiClient(server) as client:
        body = client.get("/api/v1/traces", params)
    if as_json:
        data(json.dumps(body, indent=2))
        return
    table = Table(
        "Start", "Trace ID", "Root", "Duration", "Spans", "Errors", "Services", box=None, pad_edge=False
    )
    for summary in body["traces"]:
        table.add_row(
            local_time(summary["start_time_unix_nano"]), summary["trace_id"],
            f"{summary['root_service']}: {summary['root_operation']}", duration(summary["duration_ns"]),
            str(summary["span_count"]), str(summary["error_count"]), ", ".join(summary["services"]),
            style="red" if summary["error_count"] else None,
        )  # fmt: skip
    data(render(table))


def trace(
    trace_id: Annotated[str, typer.Argument(help="Trace id (32 hex digits)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON")] = False,
    server: ServerOption = DEFAULT_SERVER,
) -> None:
    """The span tree of one trace as a waterfall: indented by parent, bars scaled to the trace."""
    import json

    from tsdev.cli.client import ApiClient
    from tsdev.cli.output import data

    with ApiClient(server) as client:
        body = client.get(f"/api/v1/traces/{trace_id}")
    data(json.dumps(body, indent=2) if as_json else waterfall(body["spans"]))


def _tree(spans: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """Spans depth-first under their parents, siblings by start time; orphans (parent not stored)
    are shown as roots so nothing is hidden."""
    ids = {span["span_id"] for span in spans}
    children: dict[str, list[dict[str, Any]]] = {}
    for span in sorted(spans, key=lambda s: (s["start_time_unix_nano"], s["span_id"])):
        parent = span["parent_span_id"] if span["parent_span_id"] in ids else ""
        children.setdefault(parent, []).append(span)
    ordered: list[tuple[int, dict[str, Any]]] = []
    stack = [(0, span) for span in reversed(children.get("", []))]
    while stack:
        depth, span = stack.pop()
        ordered.append((depth, span))
        stack.extend((depth + 1, child) for child in reversed(children.get(span["span_id"], [])))
    return ordered


def waterfall(spans: list[dict[str, Any]], width: int = BAR_WIDTH) -> str:
    from rich.table import Table
    from rich.text import Text

    from tsdev.cli.render import render
    from tsdev.cli.timefmt import duration

    if not spans:
        return ""
    start = min(span["start_time_unix_nano"] for span in spans)
    end = max(span["start_time_unix_nano"] + span["duration_ns"] for span in spans)
    total = max(end - start, 1)
    table = Table("Span", "Duration", f"0 .. {duration(total)}", box=None, pad_edge=False)
    for depth, span in _tree(spans):
        failed = span["status_code"] == "Error"
        offset = int((span["start_time_unix_nano"] - start) / total * width)
        length = max(1, round(span["duration_ns"] / total * width))
        bar = Text(" " * min(offset, width - 1))
        bar.append("█" * min(length, width - min(offset, width - 1)), style="red" if failed else "green")
        label = Text("  " * depth)
        label.append(f"{span['service_name']}: ", style="cyan")
        label.append(span["name"], style="bold red" if failed else None)
        if failed:
            label.append(f"  ! {span['status_message'] or 'error'}", style="red")
        table.add_row(label, duration(span["duration_ns"]), bar)
    return render(table)
