"""Seasonality of a request-rate series: which cycles it has, how strong, and when it peaks.

Autoscaling ahead of a peak only makes sense for traffic that repeats, so this answers three questions
with evidence a person can check. Which periods? Daily and weekly are always tested (autocorrelation at
the lag plus seasonal strength from an MSTL decomposition); any other period is reported only when the
periodogram shows a peak that white noise would produce with probability under 1% *and* the
autocorrelation at that lag agrees. How strong? Strength is ``1 - Var(remainder) / Var(season +
remainder)`` (Wang, Smith & Hyndman), 0 for noise and near 1 for a clean cycle. When? Peak windows in
words, "weekdays 09:00-11:00 UTC, 3.1x the nightly trough", from the mean hourly profile, on the
wall clock of the time zone the traffic follows when one is given ("09:00-11:00 America/New_York").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import polars as pl
from pydantic import JsonValue

from tsdev.analysis.fingerprint import fingerprint
from tsdev.analysis.forecast._series import (
    DAY,
    FloatArray,
    RegularSeries,
    as_series,
    block_means,
    fill_gaps,
    to_timedelta,
)
from tsdev.analysis.forecast._statsmodels import autocorrelation, mstl
from tsdev.analysis.forecast.local_time import wall_times

FINDING_KIND = "seasonality"
MIN_STRENGTH = 0.5
"""Seasonal strength below this is not called a cycle (STL on white noise gives about 0.35)."""
MIN_ACF = 0.2
"""Autocorrelation at the period's lag that a cycle must also show."""
WEEKLY_ACF_MARGIN = 0.05
"""A weekly cycle must correlate better at 7 days than at 1 day; a daily cycle alone correlates equally."""
FALSE_PEAK_PROBABILITY = 0.01
"""Chance that white noise produces a periodogram peak as high as a reported extra period."""
PEAK_SHARE = 0.8
"""A peak window holds the hours within the top 20% of the day's range around the highest hour."""


@dataclass(frozen=True)
class Period:
    """One tested cycle; ``significant`` says whether it is claimed."""

    name: str
    length: timedelta
    strength: float
    autocorrelation: float
    significant: bool


@dataclass(frozen=True)
class PeakWindow:
    """Hours (end exclusive, on ``timezone``'s clock) of the day type's peak and its mean relative to
    the nightly trough."""

    days: str
    start_hour: int
    end_hour: int
    ratio_to_trough: float | None
    timezone: str = "UTC"

    def describe(self) -> str:
        ratio = (
            f"{self.ratio_to_trough:.1f}x the nightly trough" if self.ratio_to_trough else "trough is zero"
        )
        return f"{self.days} {self.start_hour:02d}:00-{self.end_hour % 24:02d}:00 {self.timezone}, {ratio}"


@dataclass(frozen=True)
class SeasonalityResult:
    """Tested periods (daily and weekly first), peak windows, and the history they rest on."""

    periods: tuple[Period, ...]
    peaks: tuple[PeakWindow, ...]
    history: timedelta
    step: timedelta

    @property
    def significant(self) -> tuple[Period, ...]:
        return tuple(p for p in self.periods if p.significant)

    def has(self, name: str) -> bool:
        return any(p.name == name and p.significant for p in self.periods)

    def summary(self) -> str:
        if not self.significant:
            return "no significant seasonality"
        cycles = ", ".join(f"{p.name} (strength {p.strength:.2f})" for p in self.significant)
        peaks = "; ".join(w.describe() for w in self.peaks)
        return f"{cycles}; peaks {peaks}" if peaks else cycles

    def evidence(self) -> dict[str, JsonValue]:
        return {
            "history_hours": round(self.history / timedelta(hours=1), 1),
            "step_seconds": self.step.total_seconds(),
            "periods": [
                {
                    "name": p.name,
                    "hours": round(p.length / timedelta(hours=1), 3),
                    "strength": round(p.strength, 3),
                    "autocorrelation": round(p.autocorrelation, 3),
                    "significant": p.significant,
                }
                for p in self.periods
            ],
            "peaks": [w.describe() for w in self.peaks],
        }

    def finding_fields(self, service: str) -> dict[str, JsonValue]:
        """Fields of a finding of kind ``seasonality`` (the shape of ``tsdev.analysis.findings.Finding``).

        The fingerprint names the service and its significant cycles, so a job rerun upserts the same
        finding and a newly appearing cycle makes a new one.
        """
        names = tuple(sorted(p.name for p in self.significant))
        return {
            "kind": FINDING_KIND,
            "service": service,
            "fingerprint": fingerprint(FINDING_KIND, service, "", names),
            "severity": "low",
            "title": f"{service}: {self.summary()}",
            "parent_operation": "",
            "operations": [],
            "evidence": self.evidence(),
            "estimated_saving_ms_per_hour": 0.0,
            "suggested_change": "scale ahead of the peak windows with the predictive autoscaler",
        }


def _strength(seasonal: FloatArray, remainder: FloatArray) -> float:
    total = float(np.var(seasonal + remainder))
    return max(0.0, 1.0 - float(np.var(remainder)) / total) if total > 0 else 0.0


def _extra_periods(values: FloatArray, step: timedelta, acf: FloatArray, known: list[int]) -> list[Period]:
    """Periodogram peaks that are neither daily nor weekly harmonics and pass the white-noise test."""
    from scipy.signal import periodogram  # type: ignore[import-untyped]

    freqs, power = periodogram(values, detrend="linear")
    freqs, power = np.asarray(freqs[1:]), np.asarray(power[1:])
    if power.size < 4 or not np.any(power > 0):
        return []
    # Under white noise periodogram ordinates are exponential: P(max of M > x * mean) ~ M exp(-x).
    threshold = float(np.mean(power)) * math.log(power.size / FALSE_PEAK_PROBABILITY)
    found: list[Period] = []
    for i in np.argsort(power)[::-1][:5]:
        if power[i] < threshold:
            break
        lag = round(1.0 / freqs[i])
        if lag < 3 or lag > values.size // 3 or lag >= acf.size:
            continue
        if any(abs(k / round(k / lag) - lag) <= max(1.0, 0.02 * lag) for k in known if round(k / lag) >= 1):
            continue
        if acf[lag] >= MIN_ACF and all(p.length != lag * step for p in found):
            hours = lag * step / timedelta(hours=1)
            found.append(Period(f"{hours:g}h", lag * step, float("nan"), float(acf[lag]), True))
    return found


def _peaks(series: RegularSeries, values: FloatArray, weekly: bool, timezone: str) -> tuple[PeakWindow, ...]:
    times = series.timestamps()[: values.size]
    if timezone != "UTC":
        times = wall_times(times, timezone)
    hours = ((times - times.astype("datetime64[D]")) // np.timedelta64(1, "h")).astype(np.int64)
    weekday = (times.astype("datetime64[D]").astype(np.int64) + 3) % 7
    everyday = np.array([values[hours == h].mean() if np.any(hours == h) else np.nan for h in range(24)])
    trough = float(np.nanmin(everyday))
    groups = (
        [("weekdays", weekday < 5), ("weekends", weekday >= 5)] if weekly else [("every day", weekday >= 0)]
    )
    out = []
    for days, mask in groups:
        profile = np.array(
            [values[mask & (hours == h)].mean() if np.any(mask & (hours == h)) else np.nan for h in range(24)]
        )
        if not np.isfinite(profile).any():
            continue
        top = int(np.nanargmax(profile))
        cut = trough + PEAK_SHARE * (float(profile[top]) - trough)
        start, end = top, top + 1
        while end - start < 24 and profile[(start - 1) % 24] >= cut:
            start -= 1
        while end - start < 24 and profile[end % 24] >= cut:
            end += 1
        window = profile[[h % 24 for h in range(start, end)]]
        ratio = float(np.nanmean(window)) / trough if trough > 0 else None
        out.append(PeakWindow(days, start % 24, end if end <= 24 else end % 24, ratio, timezone))
    return tuple(out)


def analyze_seasonality(
    y: RegularSeries | pl.DataFrame, max_points_per_day: int = 288, timezone: str = "UTC"
) -> SeasonalityResult:
    """Test daily and weekly cycles (and report other significant ones) of a regular series; peak
    windows are told in ``timezone``'s wall-clock hours and days."""
    series = as_series(y)
    step = series.step_td
    factor = max(1, math.ceil(series.points(DAY) / max_points_per_day))
    work_step = step * factor
    day = max(2, round(DAY / work_step))
    values = fill_gaps(block_means(series.values, factor), day)
    work = RegularSeries(series.start, series.step * factor, values)
    n = values.size
    raw_acf = autocorrelation(values - values.mean(), min(n - 1, 7 * day + 1))
    # The sample ACF shrinks long lags by (n - k) / n; undo it so a week and a day compare fairly.
    acf = raw_acf * n / (n - np.arange(raw_acf.size))
    tested = [("daily", day)] + ([("weekly", 7 * day)] if n >= 14 * day else [])
    tested = [(name, lag) for name, lag in tested if n >= 2 * lag]
    periods: list[Period] = []
    if tested:
        _, seasonal, remainder = mstl(values, [lag for _, lag in tested])
        for (name, lag), row in zip(tested, seasonal, strict=True):
            strength = _strength(row, remainder)
            corr = float(acf[lag]) if lag < acf.size else 0.0
            significant = strength >= MIN_STRENGTH and corr >= MIN_ACF
            if name == "weekly":
                significant = significant and corr >= float(acf[day]) + WEEKLY_ACF_MARGIN
            periods.append(Period(name, lag * work_step, strength, corr, significant))
    periods += _extra_periods(values, work_step, acf, [lag for _, lag in tested] or [day])
    daily = any(p.name == "daily" and p.significant for p in periods)
    weekly = any(p.name == "weekly" and p.significant for p in periods)
    hourly = (
        block_means(values, max(1, round(timedelta(hours=1) / work_step)))
        if work_step < timedelta(hours=1)
        else values
    )
    hourly_series = (
        work
        if work_step >= timedelta(hours=1)
        else RegularSeries(work.start, np.timedelta64(3600, "s").astype("timedelta64[ns]"), hourly)
    )
    peaks = _peaks(hourly_series, hourly, weekly, timezone) if daily else ()
    return SeasonalityResult(tuple(periods), peaks, series.span, to_timedelta(series.step))
