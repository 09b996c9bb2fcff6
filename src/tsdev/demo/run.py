"""``tsdev demo`` end to end: every stage in order, a summary for tests, and clean-up.

The summary (``demo-summary.json`` in the data directory) records what each stage produced, so the
end-to-end test checks outcomes rather than scraping the terminal output.
"""

from __future__ import annotations

import json
import shutil
import signal
import tempfile
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console

from tsdev.demo import stages

SUMMARY_FILE = "demo-summary.json"


@dataclass(frozen=True)
class DemoOptions:
    """``minutes`` of live traffic (``fast``: a short burst and cheaper forecasting instead);
    ``keep`` leaves tsdev up after the demo; ``data_dir`` (default: a temporary one, removed at the end
    unless kept) holds the store, the shop's git copy and the advisor's files."""

    minutes: float = 2.0
    fast: bool = False
    keep: bool = False
    data_dir: Path | None = None

    @property
    def history_days(self) -> float:
        return 7.0

    @property
    def history_peak_per_minute(self) -> float:
        """Fewer spans in ``fast`` mode: replaying them through the SDK is the slow part."""
        return 2.0 if self.fast else 6.0


def _fast_forecasts(tsdev: Any) -> None:
    """Two cheap candidates and a short backtest instead of the full model choice: a fit in seconds
    rather than half a minute, for ``--fast`` and the end-to-end test."""
    from tsdev.analysis.forecast.auto import AutoForecaster
    from tsdev.analysis.forecast.holt_winters import HoltWintersForecaster
    from tsdev.analysis.forecast.naive import SeasonalNaiveForecaster
    from tsdev.analysis.forecast.refit import ForecastRefitter, RefitSettings

    def cheap() -> AutoForecaster:
        return AutoForecaster(
            [
                SeasonalNaiveForecaster("daily", calibration_origins=0),
                HoltWintersForecaster(calibration_origins=0),
            ],
            calibration_origins=16,
            origin_every=timedelta(hours=3),
            combine=False,
        )

    settings = RefitSettings(horizon=timedelta(hours=12), forecaster=cheap)
    tsdev.runtime.forecast_refitter = ForecastRefitter(tsdev.store, settings)


def run_demo(options: DemoOptions, console: Console | None = None) -> dict[str, Any]:
    """Run every stage and return the summary (also written to the data directory)."""
    console = console or Console()
    temporary = options.data_dir is None
    data_dir = options.data_dir or Path(tempfile.mkdtemp(prefix="tsdev-demo-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix="advisor-", dir=data_dir))
    hours = stages.plan_hours(options.fast)
    summary: dict[str, Any] = {"data_dir": str(data_dir)}

    stages.heading(console, 1, "tsdev, embedded")
    tsdev = stages.start_tsdev(console, data_dir)
    summary["api_url"] = tsdev.api_url
    try:
        if options.fast:
            _fast_forecasts(tsdev)
        stages.heading(console, 2, "the shop and its traffic")
        summary["history_spans"] = stages.replay_history(
            console, tsdev, days=options.history_days, peak_per_minute=options.history_peak_per_minute
        )
        traffic = stages.run_traffic(console, tsdev, minutes=options.minutes, fast=options.fast)
        summary["requests"] = traffic.sent

        stages.heading(console, 3, "findings")
        findings = stages.analyze(console, tsdev, traffic)
        summary["findings"] = [{"kind": r.kind, "fingerprint": r.fingerprint} for r in findings]

        stages.heading(console, 4, "the advisor's pull requests (dry run)")
        patches = stages.advise(console, findings, work_dir)
        summary["patches"] = [
            {"kind": p.kind, "status": p.status, "diff_lines": len(p.diff.splitlines()), "out_dir": p.out_dir}
            for p in patches
        ]

        stages.heading(console, 5, "the forecast")
        body = stages.forecast(console, tsdev, hours=hours)
        summary["forecast"] = {"model": body["model"], "points": len(body["points"])}

        stages.heading(console, 6, "the autoscaler's plan")
        steps = stages.scaling_plan(console, tsdev, body, hours=hours)
        summary["plan"] = [{"at": s.at.isoformat(), "floor": s.floor, "desired": s.desired} for s in steps]

        stages.heading(console, 7, "where to look next")
        stages.next_steps(console, tsdev, kept=options.keep)
        (data_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=1))
        if options.keep:
            _wait_for_interrupt(console)
    finally:
        tsdev.stop()
        if temporary and not options.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    return summary


def _wait_for_interrupt(console: Console) -> None:
    console.print("tsdev keeps running; Ctrl-C (or SIGTERM) stops it.")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
