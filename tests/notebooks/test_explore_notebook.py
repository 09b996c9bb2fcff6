"""Execute notebooks/explore.ipynb from top to bottom, as a reader would, and check what it found."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "explore.ipynb"


def test_notebook_is_committed_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]

    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.slow
@pytest.mark.integration
def test_explore_notebook_runs_and_reads_traces_and_logs(tmp_path: Path) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]

    NotebookClient(
        notebook, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute(cwd=str(NOTEBOOK.parent))

    printed = [
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "stream"
    ]
    summary = ast.literal_eval(next(text for text in printed if text.startswith("{'traces'")))
    assert summary["requests"] == 80
    assert summary["traces"] == 80
    assert summary["failed_checkouts_logged"] == summary["failed_requests_traced"]
    assert summary["logs_with_trace"] > 0
    images = [o for c in notebook.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 0 or all(images)
    assert any("tsdev exited with 0" in text for text in printed)
