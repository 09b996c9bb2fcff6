"""Execute notebooks/detectors.ipynb from top to bottom, as a reader would, and check that it walked
through a finding of each of the four kinds."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "detectors.ipynb"
KINDS = ("n_plus_one", "flaky_step", "parallelizable", "cacheable")


def test_notebook_is_committed_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]

    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.slow
@pytest.mark.integration
def test_detectors_notebook_shows_a_finding_of_each_kind(tmp_path: Path) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]

    NotebookClient(
        notebook, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute(cwd=str(NOTEBOOK.parent))

    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    printed = "".join(output.get("text", "") for output in outputs if output.output_type == "stream")
    for kind in KINDS:
        assert f"{kind}: " in printed, kind
    assert "kinds found: " + ", ".join(KINDS) in printed
    images = [output for output in outputs if "image/png" in output.get("data", {})]
    assert len(images) in (0, len(KINDS))  # none when the kernel's matplotlib backend is not inline
    assert "tsdev exited with 0" in printed
