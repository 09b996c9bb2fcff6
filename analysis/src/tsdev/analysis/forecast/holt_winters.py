"""Holt-Winters: exponential smoothing of level, trend and a daily season (statsmodels ETS).

Tracks the current level closely, so it is usually the best model for the next hour; the damped
trend keeps a morning ramp from being extrapolated into the night. This is also the model of the
predictive-horizontal-pod-autoscaler project (undamped trend, fitted on recent weeks), which the
benchmark uses as a baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import numpy as np

from tsdev.analysis.forecast._series import DAY, FloatArray, to_timedelta
from tsdev.analysis.forecast._smoothing import SmoothingState
from tsdev.analysis.forecast._statsmodels import fit_exponential_smoothing
from tsdev.analysis.forecast.base import ModelForecaster
from tsdev.analysis.forecast.intervals import DEFAULT_QUANTILES


class HoltWintersForecaster(ModelForecaster):
    """Additive Holt-Winters with a daily season and an optionally damped additive trend."""

    name = "holt_winters"

    def __init__(
        self,
        *,
        trend: bool = True,
        damped: bool = True,
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
        calibration_horizon: timedelta = DAY,
        calibration_origins: int = 56,
        origin_every: timedelta = timedelta(hours=3),
        history: timedelta | None = timedelta(weeks=4),
        max_points_per_day: int = 288,
    ) -> None:
        super().__init__(
            quantiles=quantiles,
            calibration_horizon=calibration_horizon,
            calibration_origins=calibration_origins,
            origin_every=origin_every,
            history=history,
            max_points_per_day=max_points_per_day,
        )
        self.trend = trend
        self.damped = damped

    def _min_history(self) -> timedelta:
        return 2 * DAY

    def _fit_points(self, values: FloatArray, start: np.datetime64, step: np.timedelta64) -> None:
        period = max(2, round(DAY / to_timedelta(step)))
        params = fit_exponential_smoothing(values, period, trend=self.trend, damped=self.damped)
        self.state_ = SmoothingState(params, values)

    def _update_points(self, values: FloatArray) -> None:
        self.state_.update(values)

    def _forecast_points(self, h: int) -> FloatArray:
        return self.state_.forecast(h)
