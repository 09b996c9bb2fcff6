"""Execute notebooks/detectors.ipynb from top to bottom, as a reader would, and check that it walked
through a finding of each of the four kinds."""

from __future__ import annotations

import pytest

from tests.support.notebooks import execute, images, printed

KINDS = ("n_plus_one", "flaky_step", "parallelizable", "cacheable")


@pytest.mark.slow
@pytest.mark.integration
def test_detectors_notebook_shows_a_finding_of_each_kind() -> None:
    notebook = execute("detectors.ipynb", timeout=240)
    text = "".join(printed(notebook))
    for kind in KINDS:
        assert f"{kind}: " in text, kind
    assert "kinds found: " + ", ".join(KINDS) in text
    assert len(images(notebook)) in (0, len(KINDS))  # none when the kernel's matplotlib backend is not inline
