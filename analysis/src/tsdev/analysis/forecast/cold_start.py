"""The fallback for series with too little history to learn a season or to backtest.

With under two days, no daily cycle can be told from noise and no rolling-origin backtest is possible,
so a confident forecast would be invented. This model repeats the last day if there is one (else the
recent level) and, never being calibrated, always carries the wide intervals of the base class.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import numpy as np

from tsdev.analysis.forecast._series import DAY, FloatArray, to_timedelta
from tsdev.analysis.forecast.base import ModelForecaster
from tsdev.analysis.forecast.intervals import DEFAULT_QUANTILES

RECENT_LEVEL = timedelta(hours=1)
"""Without a full day, the forecast is the mean of the last hour: recent, yet not a single point."""


class ColdStartForecaster(ModelForecaster):
    """Last day repeated, or the recent level; never calibrated, so intervals stay wide."""

    name = "cold_start"

    def __init__(
        self,
        *,
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
        history: timedelta | None = 2 * DAY,
        max_points_per_day: int = 288,
    ) -> None:
        super().__init__(
            quantiles=quantiles,
            calibration_origins=0,
            history=history,
            max_points_per_day=max_points_per_day,
        )

    def _min_history(self) -> timedelta:
        return timedelta(0)

    def _fit_points(self, values: FloatArray, start: np.datetime64, step: np.timedelta64) -> None:
        day = max(1, round(DAY / to_timedelta(step)))
        recent = max(1, round(RECENT_LEVEL / to_timedelta(step)))
        self.profile_ = values[-day:].copy() if values.size >= day else np.array([values[-recent:].mean()])
        self.recent_ = recent

    def _update_points(self, values: FloatArray) -> None:
        if self.profile_.size > 1:
            self.profile_ = np.concatenate([self.profile_, values])[-self.profile_.size :]
        else:
            self.profile_ = np.array([np.concatenate([self.profile_, values])[-self.recent_ :].mean()])

    def _forecast_points(self, h: int) -> FloatArray:
        return np.tile(self.profile_, -(-h // self.profile_.size))[:h]
