"""The autoscaling replay notebook runs top to bottom on a fresh kernel and is committed without outputs.

It runs with ``notebooks/`` as its working directory, as Jupyter would, because it loads the replay
benchmark beside it (``../bench/autoscale_replay.py``)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.mark.slow
@pytest.mark.integration
def test_autoscale_replay_notebook_runs() -> None:
    notebook = nbformat.read(NOTEBOOKS / "autoscale_replay.ipynb", as_version=4)  # type: ignore[no-untyped-call]
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    outputs = [o for c in notebook.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) or "text/plain" in o.get("data", {}) for o in outputs)
