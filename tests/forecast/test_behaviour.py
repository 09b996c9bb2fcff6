"""Calibration, cold start and events: the promises the forecasts make to the autoscaler."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from tsdev.analysis.forecast import (
    AutoForecaster,
    Event,
    HoltWintersForecaster,
    SeasonalNaiveForecaster,
    backtest,
    forecast_series,
)

from .conftest import seasonal_series


def test_ninety_percent_interval_is_calibrated_on_noisy_seasonal_series() -> None:
    series = seasonal_series(days=21, noise=8.0, seed=1)
    report = backtest(
        HoltWintersForecaster(calibration_origins=40),
        series,
        horizons=(timedelta(hours=1), timedelta(hours=12)),
        origins=48,
        origin_every=timedelta(hours=2),
    )
    assert 0.8 <= report.coverage["90%"] <= 0.97
    assert report.mase["1h"] < 1.0


def test_cold_start_is_flagged_and_wide() -> None:
    short = seasonal_series(days=1).slice(0, 40)
    result = forecast_series(short, horizon=timedelta(hours=6), quantiles=(0.05, 0.95))
    assert result.cold_start
    assert not result.calibrated
    assert "under 2 days" in result.message
    assert result.forecast is not None
    width = (result.forecast["q0.95"] - result.forecast["q0.05"]).to_numpy()
    assert (width > 3 * np.std(short.values)).all()


def test_enough_history_is_not_cold_start() -> None:
    model = AutoForecaster(calibration_origins=12).fit(seasonal_series(days=9))
    result = model.result()
    assert not result.cold_start
    assert result.calibrated
    assert set(result.scores["auto"]) == {"1h", "6h", "24h"}


def test_declared_event_raises_the_forecast_in_its_window_only() -> None:
    series = seasonal_series(days=8)
    end = datetime(2024, 1, 9)
    sale = Event("sale", end + timedelta(hours=6), end + timedelta(hours=12), multiplier=3.0)
    plain = SeasonalNaiveForecaster(calibration_origins=0).fit(series).predict(48)
    boosted = SeasonalNaiveForecaster(calibration_origins=0).fit(series, [sale]).predict(48)
    ratio = (boosted["mean"] / plain["mean"]).to_numpy()
    assert np.allclose(ratio[12:24], 3.0)
    assert np.allclose(ratio[:12], 1.0)
    assert np.allclose(ratio[24:], 1.0)


def test_past_event_does_not_inflate_the_ordinary_day() -> None:
    series = seasonal_series(days=8, noise=0.0)
    values = series.values.copy()
    last_day = slice(len(values) - 48, len(values))
    values[last_day] *= 2.0
    start = datetime(2024, 1, 8)
    past = Event("launch", start, start + timedelta(days=1), multiplier=2.0)
    spiked = type(series)(series.start, series.step, values)
    forecast = SeasonalNaiveForecaster(calibration_origins=0).fit(spiked, [past]).predict(48)
    assert np.allclose(forecast["mean"].to_numpy(), series.values[last_day])
