"""Rich renderables to text, so tables and colors still go out through :func:`tsdev.cli.output.data`.

Colors are kept when stdout is a terminal; ``typer.echo`` strips them when it is not (pipes, files).
Off a terminal, lines are not squeezed into 80 columns, so ids stay whole for ``grep`` and scripts."""

from __future__ import annotations

from rich.console import Console, RenderableType

WIDE = 400


def render(renderable: RenderableType) -> str:
    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console.width = WIDE
    with console.capture() as captured:
        console.print(renderable)
    return captured.get().rstrip("\n")
