"""Running the notebooks under ``notebooks/`` as a reader would: a fresh kernel, top to bottom."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

from tests.support.rows import REPO_ROOT

NOTEBOOKS = REPO_ROOT / "notebooks"


def read(name: str) -> Any:
    return nbformat.read(NOTEBOOKS / name, as_version=4)  # type: ignore[no-untyped-call]


def execute(name: str, *, cwd: Path = NOTEBOOKS, timeout: int = 600) -> Any:
    """The executed notebook; fails on an error output. ``cwd`` defaults to ``notebooks/``, where
    Jupyter would run it."""
    notebook = read(name)
    NotebookClient(notebook, timeout=timeout, kernel_name="python3").execute(cwd=str(cwd))
    errors = [output for output in outputs(notebook) if output.get("output_type") == "error"]
    assert not errors, errors
    return notebook


def outputs(notebook: Any) -> list[Any]:
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]


def printed(notebook: Any) -> list[str]:
    """What the notebook's cells printed, one entry per stream output."""
    return [output.get("text", "") for output in outputs(notebook) if output.output_type == "stream"]


def images(notebook: Any) -> list[Any]:
    return [output for output in outputs(notebook) if "image/png" in output.get("data", {})]
