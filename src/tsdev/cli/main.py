"""The ``tsdev`` entry point."""

from __future__ import annotations

from importlib.metadata import version
from typing import Annotated

import typer

from tsdev.cli import (
    advise,
    analyze,
    autoscale,
    demo,
    deploy,
    findings,
    forecast,
    logs,
    serve,
    services,
    traces,
    worker,
)

app = typer.Typer(
    name="tsdev",
    help="Observability that acts: OTLP ingest into ClickHouse, search, analysis and scaling.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("serve")(serve.serve)
app.command("logs")(logs.logs)
app.command("traces")(traces.traces)
app.command("trace")(traces.trace)
app.command("services")(services.services)
app.command("advise")(advise.advise)
app.command("analyze")(analyze.analyze)
app.command("findings")(findings.findings)
app.command("finding")(findings.finding)
app.command("worker")(worker.worker)
app.command("beat")(worker.beat)
app.command("forecast")(forecast.forecast)
app.command("deploy")(deploy.deploy)
app.command("rollback")(deploy.rollback)
app.command("status")(deploy.status)
app.command("autoscale")(autoscale.autoscale)
app.command("demo")(demo.demo)


def _version(value: bool) -> None:
    if value:
        typer.echo(version("tsdev"))
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit")
    ] = False,
) -> None:
    """tsdev command line."""


def run() -> None:
    app()
