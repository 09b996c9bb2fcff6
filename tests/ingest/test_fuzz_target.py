"""The decoders' fuzz target runs: a bounded libFuzzer session from the seeds finds nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.support.rows import OTLP_EXAMPLES, REPO_ROOT

TARGET = REPO_ROOT / "fuzz" / "otlp_decoders.py"


def test_a_bounded_fuzzing_session_finds_nothing(tmp_path: Path) -> None:
    try:
        import atheris  # noqa: F401
    except ImportError:
        if IN_CI:
            pytest.fail("atheris is part of the dev group and must be installed in CI")
        pytest.skip("atheris has no build for this platform")
    if not OTLP_EXAMPLES.exists():
        if IN_CI:
            pytest.fail(f"{OTLP_EXAMPLES} is missing: CI must have shared/ beside the clone")
        pytest.skip(f"{OTLP_EXAMPLES} is not present on this machine")
    seeds = tmp_path / "seeds"
    written = subprocess.run(
        [sys.executable, str(TARGET), "--write-seeds", str(seeds)], capture_output=True, text=True, check=True
    )
    assert "wrote 6 seeds" in written.stdout
    session = subprocess.run(
        [sys.executable, str(TARGET), "-runs=2000", "-max_len=65536", "-seed=7", str(seeds)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = session.stdout + session.stderr
    assert session.returncode == 0, output[-4000:]
    assert "Done 2000 runs" in output
