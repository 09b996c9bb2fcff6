"""Seasonality finds the cycles that are there and none that are not."""

from __future__ import annotations

import numpy as np

from tsdev.analysis.forecast import RegularSeries
from tsdev.analysis.seasonality import analyze_seasonality

from .conftest import HALF_HOUR, START, seasonal_series


def test_daily_and_weekly_cycles_and_the_peak_in_words() -> None:
    result = analyze_seasonality(seasonal_series(days=28))
    assert result.has("daily")
    assert result.has("weekly")
    weekdays = next(p for p in result.peaks if p.days == "weekdays")
    assert weekdays.start_hour <= 10 < weekdays.end_hour
    assert weekdays.ratio_to_trough is not None and weekdays.ratio_to_trough > 2.0
    assert weekdays.describe().startswith("weekdays ")
    fields = result.finding_fields("checkout")
    assert fields["kind"] == "seasonality"
    assert str(fields["fingerprint"]).startswith("v1:")


def test_daily_only_series_is_not_called_weekly() -> None:
    result = analyze_seasonality(seasonal_series(days=28, weekly=False))
    assert result.has("daily")
    assert not result.has("weekly")


def test_white_noise_has_no_period() -> None:
    noise = np.random.default_rng(7).normal(100, 10, 48 * 28)
    result = analyze_seasonality(RegularSeries(START, HALF_HOUR, noise))
    assert result.significant == ()
    assert result.peaks == ()
    assert result.summary() == "no significant seasonality"
