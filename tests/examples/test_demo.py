"""``tsdev demo --fast`` end to end: every stage of the loop produced its output.

The demo runs as a subprocess because chDB allows one engine per process and this test session
already holds one; the stages' outcomes are read from the summary the demo writes, and the terminal
output is checked for each stage's heading and the places to look next.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tsdev.demo import SUMMARY_FILE

pytestmark = pytest.mark.integration

KINDS = {"n_plus_one", "flaky_step", "parallelizable", "cacheable"}


class DemoRun:
    def __init__(self, summary: dict[str, Any], stdout: str) -> None:
        self.summary = summary
        self.stdout = stdout


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    data_dir = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("TSDEV_CLICKHOUSE_URL", None)
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from tsdev.cli.main import run; run()",
            "demo",
            "--fast",
            "--data-dir",
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    return DemoRun(json.loads((data_dir / SUMMARY_FILE).read_text()), completed.stdout)


def test_every_stage_printed_its_output(demo: DemoRun) -> None:
    for number, title in enumerate(
        [
            "tsdev, embedded",
            "the shop and its traffic",
            "findings",
            "the advisor's pull requests (dry run)",
            "the forecast",
            "the autoscaler's plan",
            "where to look next",
        ],
        start=1,
    ):
        assert f"{number}. {title}" in demo.stdout
    api = demo.summary["api_url"]
    assert f"{api}/jaeger" in demo.stdout
    assert f"{api}/api/v1/findings" in demo.stdout


def test_history_and_live_traffic_reached_tsdev(demo: DemoRun) -> None:
    assert demo.summary["history_spans"] > 1000
    assert demo.summary["requests"] >= 70
    assert f"{demo.summary['requests']} of them are stored as traces" in demo.stdout


def test_findings_of_all_four_kinds(demo: DemoRun) -> None:
    kinds = {f["kind"] for f in demo.summary["findings"]}
    assert kinds >= KINDS, kinds


def test_every_patch_is_a_diff_written_to_disk(demo: DemoRun) -> None:
    patches = [p for p in demo.summary["patches"] if p["status"] == "dry_run"]
    assert patches, demo.summary["patches"]
    for patch in patches:
        assert patch["diff_lines"] > 0
        out = Path(patch["out_dir"])
        assert (out / "patch.diff").read_text().startswith("--- a/")
        assert "tsdev-finding:" in (out / "body.md").read_text()


def test_at_least_three_patches(demo: DemoRun) -> None:
    assert sum(p["status"] == "dry_run" for p in demo.summary["patches"]) >= 3, demo.summary["patches"]


def test_a_forecast_and_a_scaling_plan(demo: DemoRun) -> None:
    assert demo.summary["forecast"]["points"] >= 6
    plan = demo.summary["plan"]
    assert len(plan) >= 6 * 12
    floors = [step["floor"] for step in plan]
    assert all(1 <= f <= 10 for f in floors)
    assert max(floors) > 1, "the plan never raised the floor above the minimum"
