"""A calibrated model forecasts from a fit on the whole history, not on what preceded its backtest."""

from __future__ import annotations

import numpy as np
import pytest

from tsdev.analysis.forecast import RegularSeries
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
