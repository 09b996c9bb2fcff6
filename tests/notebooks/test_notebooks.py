"""Every notebook is committed without outputs; the forecasting notebook runs top to bottom.

(The other notebooks have tests of their own, which also check what they show.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.notebooks import NOTEBOOKS, execute, read

NAMES = sorted(path.name for path in NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_committed_without_outputs(name: str) -> None:
    for cell in read(name).cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_all_four_notebooks_are_checked() -> None:
    assert NAMES == ["autoscale_replay.ipynb", "detectors.ipynb", "explore.ipynb", "forecasting.ipynb"]


@pytest.mark.slow
@pytest.mark.integration
def test_forecasting_notebook_runs(tmp_path: Path) -> None:
    execute("forecasting.ipynb", cwd=tmp_path)
