"""``tsdev demo``: the whole loop on the demo shop, from traces to findings, patches and scaling.

Runs everything in this process (tsdev on the embedded store, the shop, its traffic), so it needs
nothing but the README's set-up and leaves nothing behind unless ``--keep`` or ``--data-dir`` says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tsdev.cli.output import EXIT_FAILURE, abort


def demo(
    minutes: Annotated[
        float,
        typer.Option("--minutes", min=0.25, help="Minutes of live shop traffic (a week's shape, compressed)"),
    ] = 2.0,
    fast: Annotated[
        bool,
        typer.Option("--fast", help="A short burst of traffic and cheaper forecast models (about a minute)"),
    ] = False,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep tsdev running (and its data) after the demo, until Ctrl-C")
    ] = False,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", help="Keep the store and the advisor's files here (default: a temporary directory)"
        ),
    ] = None,
) -> None:
    """Show the whole loop on the demo shop: traces, findings, advisor patches, forecast, scaling plan."""
    from tsdev.demo import DemoOptions, run_demo

    try:
        run_demo(DemoOptions(minutes=minutes, fast=fast, keep=keep, data_dir=data_dir))
    except (FileNotFoundError, RuntimeError, TimeoutError) as exc:
        abort(str(exc), EXIT_FAILURE)
