"""``tsdev analyze``: run the detectors on the server now, over the last ``--since``, and print what
they found.

The range is sent as consecutive windows of at most an hour (the size the server analyses in one
pass anyway), so a long range shows a progress bar and a slow window never hits a request timeout.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tsdev.cli.client import DEFAULT_SERVER, ServerOption

WINDOW_S = 3600
"""Seconds per request; equal to the server's ``MAX_WINDOW_S``."""
REQUEST_TIMEOUT_S = 600.0


def analyze(
    since: Annotated[str, typer.Option("--since", help="How far back from now: 15m, 1h, 24h")] = "1h",
    as_json: Annotated[bool, typer.Option("--json", help="Print the merged summary as JSON")] = False,
    server: ServerOption = DEFAULT_SERVER,
) -> None:
    """Analyse the last SINCE of traces now and list the findings, most time saved per hour first."""
    import json
    import time

    from rich.progress import Progress

    from tsdev.cli.client import ApiClient
    from tsdev.cli.findings import findings_table
    from tsdev.cli.output import EXIT_USAGE, abort, data, info
    from tsdev.core.query import InvalidParameterError, format_time, parse_duration

    try:
        length = parse_duration(since, "--since")
    except InvalidParameterError as exc:
        abort(str(exc), EXIT_USAGE)
    end = time.time_ns()
    start = end - length
    step = WINDOW_S * 1_000_000_000
    windows = [(s, min(s + step, end)) for s in range(start, end, step)]
    passes: list[dict[str, Any]] = []
    with ApiClient(server, timeout=REQUEST_TIMEOUT_S) as client, Progress(
        transient=True, disable=len(windows) < 2, console=_stderr_console()
    ) as progress:  # fmt: skip
        task = progress.add_task("analysing", total=len(windows))
        for window_start, window_end in windows:
            body = {"start": format_time(window_start), "end": format_time(window_end)}
            passes.append(client.send("POST", "/api/v1/analyze", body))
            progress.advance(task)
    merged = merge(passes)
    if as_json:
        data(json.dumps(merged, indent=2))
        return
    info(
        f"analysed {merged['spans']} spans of {merged['traces']} traces in {merged['duration_s']:.1f}s: "
        f"{len(merged['new'])} new, {len(merged['updated'])} seen again, "
        f"{len(merged['regressed'])} regressed, {len(merged['resolved'])} resolved"
    )
    if merged["findings"]:
        data(findings_table(merged["findings"]))


def merge(passes: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary of several consecutive windows; a finding found in several shows its latest
    state."""
    merged: dict[str, Any] = {
        "start": passes[0]["start"] if passes else "", "end": passes[-1]["end"] if passes else "",
        "spans": 0, "traces": 0, "new": [], "updated": [], "regressed": [], "resolved": [],
        "duration_s": 0.0,
    }  # fmt: skip
    latest: dict[str, dict[str, Any]] = {}
    for answer in passes:
        for key in ("spans", "traces", "duration_s"):
            merged[key] += answer[key]
        for key in ("new", "updated", "regressed", "resolved"):
            merged[key].extend(i for i in answer[key] if i not in merged[key])
        latest.update((row["id"], row) for row in answer["findings"])
    merged["updated"] = [i for i in merged["updated"] if i not in merged["new"]]
    merged["findings"] = list(latest.values())
    return merged


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)
