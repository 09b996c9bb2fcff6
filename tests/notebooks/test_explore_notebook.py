"""Execute notebooks/explore.ipynb from top to bottom, as a reader would, and check what it found."""

from __future__ import annotations

import ast

import pytest

from tests.support.notebooks import execute, printed


@pytest.mark.slow
@pytest.mark.integration
def test_explore_notebook_runs_and_reads_traces_and_logs() -> None:
    notebook = execute("explore.ipynb", timeout=240)
    texts = printed(notebook)
    summary = ast.literal_eval(next(text for text in texts if text.startswith("{'traces'")))
    assert summary["requests"] == 80
    assert summary["traces"] == 80
    assert summary["failed_checkouts_logged"] == summary["failed_requests_traced"]
    assert summary["logs_with_trace"] > 0
    assert any("tsdev exited with 0" in text for text in texts)
