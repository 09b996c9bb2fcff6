"""A calibrated model forecasts from a fit on the whole history, not on what preceded its backtest."""

from __future__ import annotations

import numpy as np
import pytest

from tsdev.analysis.forecast import AutoForecaster, RegularSeries
from tsdev.analysis.forecast.base import ModelForecaster
from tsdev.analysis.forecast.holt_winters import HoltWintersForecaster
from tsdev.analysis.forecast.mstl import MSTLForecaster

from .conftest import seasonal_series


def changed_peak(days: int, changed_days: int) -> RegularSeries:
    """The synthetic traffic, with the morning peak twice as high over the last ``changed_days``."""
    series = seasonal_series(days, noise=2.0)
    t = np.arange(len(series))
    hour = (t % 48) / 2
    late = t >= len(series) - changed_days * 48
    values = series.values.copy()
    values[late] += 100 * np.exp(-((hour[late] - 10) ** 2) / 8)
    return RegularSeries(series.start, series.step, values)


@pytest.mark.parametrize("model", [MSTLForecaster("ets"), HoltWintersForecaster()], ids=repr)
def test_calibration_does_not_change_the_point_forecast(model: ModelForecaster) -> None:
    series = seasonal_series(28)
    calibrated = model.clone().fit(series)
    plain = model.clone(calibration_origins=0).fit(series)
    assert calibrated.calibrated and not plain.calibrated
    np.testing.assert_allclose(calibrated.predict_mean(96), plain.predict_mean(96))


def test_mstl_forecasts_the_daily_shape_of_the_last_days_before_the_fit() -> None:
    # The peak changed nine days before the fit, inside the calibration week: the seasonal profiles
    # must come from the whole history (peak about 240 at 10:00), not from before that week (177).
    forecast = MSTLForecaster("ets").fit(changed_peak(35, 9)).predict_mean(48)
    assert forecast[20] > 220


def test_the_automatic_choice_forecasts_from_members_fitted_on_the_whole_history() -> None:
    # The same change, nine days before the fit, falls inside the blend's two backtest weeks: members
    # fitted before those weeks and walked through them would still forecast the old peak.
    auto = AutoForecaster([MSTLForecaster("ets")], adaptive_gamma=0).fit(changed_peak(42, 9))
    assert auto.predict_mean(48)[20] > 220


def holiday_in_last_week(days: int, holiday: int) -> RegularSeries:
    """The synthetic traffic with day ``holiday`` (counted from the start) at weekend level."""
    series = seasonal_series(days, noise=2.0)
    values = series.values.copy()
    day = slice(holiday * 48, (holiday + 1) * 48)
    values[day] = 0.5 * values[day]
    return RegularSeries(series.start, series.step, values)


def test_mstl_carries_less_of_one_unusual_day_of_the_last_week_into_the_next() -> None:
    # 35 days from a Monday: day 30 is a Wednesday whose morning peak (about 140) fell by half. Copying
    # the last weekly cycle forecasts next Wednesday's peak about 43 below the forecast without the
    # holiday; the median of the last four cycles less than two thirds of that. (STL's smoothing
    # across cycles spreads some of the dip into every cycle, so the median cannot remove it all.)
    wednesday_ten = 2 * 48 + 20

    def peak(series: RegularSeries, cycles: int) -> float:
        model = MSTLForecaster("ets", calibration_origins=0, profile_cycles=cycles).fit(series)
        return float(model.predict_mean(7 * 48)[wednesday_ten])

    usual = peak(seasonal_series(35, noise=2.0), 4)
    holiday = holiday_in_last_week(35, 30)
    assert usual > 125
    assert usual - peak(holiday, 4) < 2 / 3 * (usual - peak(holiday, 1))
