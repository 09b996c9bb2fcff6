"""Seasonal naive: tomorrow looks like today (or next Monday like last Monday).

The baseline every other model must beat, and a robust fallback: it has no parameters to get wrong,
and for strongly periodic traffic it is hard to beat at long leads.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Literal

import numpy as np

from tsdev.analysis.forecast._series import DAY, WEEK, FloatArray, to_timedelta
from tsdev.analysis.forecast.base import ModelForecaster
from tsdev.analysis.forecast.intervals import DEFAULT_QUANTILES

Season = Literal["daily", "weekly"]


class SeasonalNaiveForecaster(ModelForecaster):
    """Repeat the last full season (a day or a week)."""

    name = "seasonal_naive"

    def __init__(
        self,
        season: Season = "daily",
        *,
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
        calibration_horizon: timedelta = DAY,
        calibration_origins: int = 56,
        origin_every: timedelta = timedelta(hours=3),
        history: timedelta | None = timedelta(weeks=3),
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
        self.season = season

    def __repr__(self) -> str:
        return f"SeasonalNaiveForecaster({self.season!r})"

    @property
    def label(self) -> str:
        return f"{self.name}_{self.season}"

    def _period(self) -> timedelta:
        if self.season not in ("daily", "weekly"):
            raise ValueError(f"season must be 'daily' or 'weekly', got {self.season!r}")
        return DAY if self.season == "daily" else WEEK

    def _min_history(self) -> timedelta:
        return self._period()

    def _fit_points(self, values: FloatArray, start: np.datetime64, step: np.timedelta64) -> None:
        period = max(1, round(self._period() / to_timedelta(step)))
        self.last_season_ = values[-period:].copy()

    def _update_points(self, values: FloatArray) -> None:
        period = self.last_season_.size
        self.last_season_ = np.concatenate([self.last_season_, values])[-period:]

    def _forecast_points(self, h: int) -> FloatArray:
        reps = -(-h // self.last_season_.size)
        return np.tile(self.last_season_, reps)[:h]
