"""All terminal output goes through here: data to stdout, diagnostics to stderr."""

from __future__ import annotations

from typing import NoReturn

import typer

EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
EXIT_FAILURE = 1


def info(message: str) -> None:
    typer.echo(message, err=True)


def data(text: str) -> None:
    typer.echo(text)


def abort(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    """Print ``message`` on stderr and exit with ``code`` (1 failure, 2 usage, 3 server unavailable)."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)
