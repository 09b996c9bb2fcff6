"""Patch quality of the advisor over a corpus of small sample repositories.

Each sample in ``tests/advisor/samples`` has one injected problem, the finding describing it, its own
tests and a micro-benchmark (``micro.py`` prints one figure). For each sample and engine (codemods
always; the model too when ``ANTHROPIC_API_KEY`` is set): does a patch come out, does it apply and
validate, do the sample's tests pass with it, does the micro-benchmark improve.

    uv run python bench/advisor.py
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tsdev.advisor import AdvisorSettings, advise
from tsdev.analysis.findings import Finding

SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "advisor" / "samples"
ENV = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


def micro(directory: Path) -> tuple[float, bool]:
    done = subprocess.run(
        [sys.executable, "micro.py"], cwd=directory, capture_output=True, text=True, env=ENV, check=True
    )
    figure = json.loads(done.stdout.strip().splitlines()[-1])
    return float(figure["value"]), bool(figure["higher_is_better"])


def tests_pass(directory: Path) -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=directory,
        capture_output=True,
        env=ENV,
        check=False,
    )
    return done.returncode == 0


def run(sample: Path, settings: AdvisorSettings) -> dict[str, object]:
    finding = Finding.model_validate_json((sample / "finding.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / sample.name
        shutil.copytree(sample, work, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
        before, higher = micro(work)
        result = advise(finding, repo_path=work, settings=settings, dry_run=True, out_dir=Path(tmp) / "out")
        row: dict[str, object] = {
            "sample": sample.name,
            "kind": finding.kind,
            "engine": result.engine or "-",
            "patch": result.status == "dry_run",
            "applies": False,
            "tests": False,
            "before": before,
            "after": None,
            "improves": False,
        }
        if result.status != "dry_run":
            row["note"] = result.reason
            return row
        edits = json.loads((Path(tmp) / "out" / "edits.json").read_text())
        for edit in edits:
            target = work / edit["path"]
            text = target.read_text() if target.exists() else ""
            if edit["old_text"] and text.count(edit["old_text"]) != 1:
                return row
            target.write_text(
                text.replace(edit["old_text"], edit["new_text"], 1) if edit["old_text"] else edit["new_text"]
            )
        row["applies"] = True
        row["tests"] = tests_pass(work)
        after, _ = micro(work)
        row["after"] = after
        row["improves"] = after > before if higher else after < before
        return row


def main() -> None:
    engines = {"codemod": AdvisorSettings.from_env().with_(anthropic_api_key=None)}
    if os.environ.get("ANTHROPIC_API_KEY"):
        engines["model"] = AdvisorSettings.from_env()
    samples = sorted(p for p in SAMPLES.iterdir() if (p / "finding.json").exists())
    for name, settings in engines.items():
        print(f"engine: {name}")
        columns = (
            f"{'sample':16} {'kind':15} {'patch':6} {'applies':8} {'tests':6} {'before':>8} {'after':>8}"
        )
        print(columns + " improves")
        rows = [run(sample, settings) for sample in samples]
        for r in rows:
            after = "-" if r["after"] is None else f"{r['after']:g}"
            print(
                f"{r['sample']!s:16} {r['kind']!s:15} {r['patch']!s:6} {r['applies']!s:8} {r['tests']!s:6} "
                f"{r['before']:>8g} {after:>8} {r['improves']}" + (f"  ({r['note']})" if "note" in r else "")
            )
        by_kind: dict[str, list[bool]] = {}
        for r in rows:
            ok = bool(r["patch"] and r["applies"] and r["tests"] and r["improves"])
            by_kind.setdefault(str(r["kind"]), []).append(ok)
        for kind, oks in sorted(by_kind.items()):
            share = sum(oks) / len(oks)
            print(f"  {kind}: {sum(oks)}/{len(oks)} patched, applied, tested and improved ({share:.0%})")


if __name__ == "__main__":
    main()
