"""MSTL: peel off the daily and weekly cycles, forecast what is left with ETS or ARIMA.

Multi-seasonal decomposition (statsmodels MSTL) captures that Monday mornings differ from Sunday
mornings, which a single daily season cannot; the deseasonalised remainder (trend plus noise) is
then smooth enough for a simple damped-trend ETS or a small ARIMA. Seasonal profiles are frozen at
fit time and re-estimated by the next scheduled fit.

Each profile is the median, phase by phase, of the last ``profile_cycles`` cycles of its seasonal
component (4 by default, fewer when the history is shorter), not the last cycle alone: an unusual
last week (a holiday) would otherwise be forecast again the week after.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Literal

import numpy as np

from tsdev.analysis.forecast._series import DAY, WEEK, FloatArray, to_timedelta
from tsdev.analysis.forecast._smoothing import SmoothingState
from tsdev.analysis.forecast._statsmodels import ArimaState, fit_exponential_smoothing, mstl
from tsdev.analysis.forecast.base import ModelForecaster
from tsdev.analysis.forecast.intervals import DEFAULT_QUANTILES

Remainder = Literal["ets", "arima"]

WEEKLY_MIN_HISTORY = 2 * WEEK
"""A weekly component is fitted only with two full weeks; from one week it would be pure noise."""

ARIMA_FIT_DAYS = 14
"""The ARIMA likelihood costs time in proportion to length; two weeks pin down a remainder model."""


class MSTLForecaster(ModelForecaster):
    """Daily (and, with two weeks of history, weekly) seasonal profiles plus a remainder model."""

    name = "mstl"

    def __init__(
        self,
        remainder: Remainder = "ets",
        *,
        arima_order: tuple[int, int, int] = (2, 1, 1),
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
        calibration_horizon: timedelta = DAY,
        calibration_origins: int = 56,
        origin_every: timedelta = timedelta(hours=3),
        history: timedelta | None = timedelta(weeks=8),
        max_points_per_day: int = 288,
        profile_cycles: int = 4,
    ) -> None:
        super().__init__(
            quantiles=quantiles,
            calibration_horizon=calibration_horizon,
            calibration_origins=calibration_origins,
            origin_every=origin_every,
            history=history,
            max_points_per_day=max_points_per_day,
        )
        self.remainder = remainder
        self.arima_order = arima_order
        self.profile_cycles = profile_cycles

    def __repr__(self) -> str:
        return f"MSTLForecaster({self.remainder!r})"

    @property
    def label(self) -> str:
        return f"{self.name}_{self.remainder}"

    def _min_history(self) -> timedelta:
        return 2 * DAY

    def _fit_points(self, values: FloatArray, start: np.datetime64, step: np.timedelta64) -> None:
        if self.remainder not in ("ets", "arima"):
            raise ValueError(f"remainder must be 'ets' or 'arima', got {self.remainder!r}")
        day = max(2, round(DAY / to_timedelta(step)))
        periods = [day]
        if values.size * to_timedelta(step) >= WEEKLY_MIN_HISTORY:
            periods.append(7 * day)
        _, seasonal, _ = mstl(values, periods)
        n = values.size
        self.profiles_: list[FloatArray] = []
        for row, period in zip(seasonal, periods, strict=True):
            profile = np.empty(period)
            phases = np.arange(n - period, n)
            cycles = max(1, min(self.profile_cycles, n // period))
            stacked = row[n - cycles * period :].reshape(cycles, period)
            profile[phases % period] = np.median(stacked, axis=0)
            self.profiles_.append(profile)
        self.t_ = 0
        adjusted = values - self._seasonal(n)
        self.t_ = n
        self.state_: SmoothingState | ArimaState
        if self.remainder == "ets":
            params = fit_exponential_smoothing(adjusted, None, trend=True, damped=True)
            self.state_ = SmoothingState(params, adjusted)
        else:
            self.state_ = ArimaState(adjusted[-ARIMA_FIT_DAYS * day :], self.arima_order)

    def _seasonal(self, h: int) -> FloatArray:
        index = self.t_ + np.arange(h)
        total = np.zeros(h)
        for profile in self.profiles_:
            total += profile[index % profile.size]
        return total

    def _update_points(self, values: FloatArray) -> None:
        adjusted = values - self._seasonal(values.size)
        self.state_.extend(adjusted) if isinstance(self.state_, ArimaState) else self.state_.update(adjusted)
        self.t_ += values.size

    def _forecast_points(self, h: int) -> FloatArray:
        return self.state_.forecast(h) + self._seasonal(h)
