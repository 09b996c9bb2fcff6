"""Run the shop's own tests (``examples/shop/tests``) as part of the suite.

In a child pytest: the shop's tests have their own ``conftest.py`` and module names that would clash
with this suite's, and a process of their own keeps their servers and telemetry apart from it.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.examples.conftest import SHOP_DIR


@pytest.mark.integration
def test_the_shops_own_tests_pass() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(SHOP_DIR), "tests"],
        cwd=SHOP_DIR,
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
