"""The autoscaling replay notebook runs top to bottom on a fresh kernel.

It runs with ``notebooks/`` as its working directory, as Jupyter would, because it loads the replay
benchmark beside it (``../bench/autoscale_replay.py``)."""

from __future__ import annotations

import pytest

from tests.support.notebooks import execute, outputs


@pytest.mark.slow
@pytest.mark.integration
def test_autoscale_replay_notebook_runs() -> None:
    notebook = execute("autoscale_replay.ipynb")
    shown = [output.get("data", {}) for output in outputs(notebook)]
    assert any("image/png" in data or "text/plain" in data for data in shown)
