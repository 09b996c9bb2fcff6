"""Gradient boosting on calendar and lag features (scikit-learn), the model that can learn events.

Trees learn shapes ETS cannot: a Monday-morning spike, a lunch dip only on weekdays, and declared
events once enough of them are in the history. The target is the deviation from the previous day's
mean, so level drift (growth, seasons of the year) does not push it outside the range trees have seen.
Lags are a day and a week; beyond a day ahead the forecast is fed back in a day at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import numpy as np

from tsdev.analysis.forecast._series import DAY, FloatArray, RegularSeries, to_timedelta
from tsdev.analysis.forecast.base import ModelForecaster
from tsdev.analysis.forecast.events import multipliers, occurrences_before
from tsdev.analysis.forecast.intervals import DEFAULT_QUANTILES


class BoostedRegressionForecaster(ModelForecaster):
    """Histogram gradient boosting (absolute-error loss) on time of day, weekday, lags and events."""

    name = "gbm"

    def __init__(
        self,
        *,
        max_iter: int = 100,
        learning_rate: float = 0.08,
        min_event_occurrences: int = 2,
        random_state: int = 0,
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
        calibration_horizon: timedelta = DAY,
        calibration_origins: int = 56,
        origin_every: timedelta = timedelta(hours=3),
        history: timedelta | None = timedelta(weeks=8),
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
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.min_event_occurrences = min_event_occurrences
        self.random_state = random_state

    def _min_history(self) -> timedelta:
        return 3 * DAY  # two days feed the lags of the first training row

    def _learns_events(self, series: RegularSeries) -> bool:
        """Learn events once enough past windows are in the history; before that, multiply."""
        end = series.start + len(series) * series.step
        return bool(self.events_) and occurrences_before(self.events_, end) >= self.min_event_occurrences

    def _fit_points(self, values: FloatArray, start: np.datetime64, step: np.timedelta64) -> None:
        from sklearn.ensemble import HistGradientBoostingRegressor  # type: ignore[import-untyped]
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

        self.day_ = max(2, round(DAY / to_timedelta(step)))
        self.week_ = 7 * self.day_
        self.origin_, self.work_step_ = start, step
        self.weekly_lag_ = values.size > self.week_ + 3 * self.day_
        self.buffer_ = values.copy()
        self.buffer_start_ = 0
        index = np.arange(self.day_ * 2, values.size)
        features, base = self._features(index, self.buffer_)
        target = values[index] - base
        model = HistGradientBoostingRegressor(
            loss="absolute_error",
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=15,
            early_stopping=False,
            random_state=self.random_state,
        )
        # One OpenMP thread: these fits are small, and spinning threads on a shared machine cost more
        # than they save (a 2-core host with a busy neighbour ran 20x slower with the default).
        with threadpool_limits(limits=1):
            self.model_: Any = model.fit(features, target)

    def _features(
        self, index: np.ndarray[Any, np.dtype[np.int64]], ext: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """Feature rows for absolute working indices; ``ext`` holds values from ``buffer_start_``."""
        rel = index - self.buffer_start_
        times = self.origin_ + index * self.work_step_
        day_index = times.astype("datetime64[D]")
        minute = (times - day_index).astype("timedelta64[m]").astype(np.float64)
        weekday = ((day_index.astype(np.int64) + 3) % 7).astype(np.float64)
        cumsum = np.concatenate([[0.0], np.cumsum(ext)])
        lo, hi = np.maximum(rel - 2 * self.day_, 0), np.maximum(rel - self.day_, 0)
        base = (cumsum[hi] - cumsum[lo]) / np.maximum(hi - lo, 1)

        def lag(points: int) -> FloatArray:
            at = rel - points
            out = np.full(index.size, np.nan)
            ok = at >= 0
            out[ok] = ext[at[ok]] - base[ok]
            return out

        columns = [minute, weekday, (weekday >= 5).astype(np.float64), lag(self.day_)]
        if self.weekly_lag_:
            columns.append(lag(self.week_))
        if self.events_learned_:
            columns.append(multipliers(self.events_, times))
        return np.column_stack(columns), base

    def _update_points(self, values: FloatArray) -> None:
        self.buffer_ = np.concatenate([self.buffer_, values])
        keep = self.week_ + 2 * self.day_
        if self.buffer_.size > keep:
            drop = self.buffer_.size - keep
            self.buffer_ = self.buffer_[drop:]
            self.buffer_start_ += drop

    def _forecast_points(self, h: int) -> FloatArray:
        from threadpoolctl import threadpool_limits

        end = self.buffer_start_ + self.buffer_.size
        ext = np.concatenate([self.buffer_, np.zeros(h)])
        for chunk in range(0, h, self.day_):
            index = np.arange(end + chunk, end + min(h, chunk + self.day_))
            features, base = self._features(index, ext)
            with threadpool_limits(limits=1):
                ext[index - self.buffer_start_] = base + self.model_.predict(features)
        return ext[self.buffer_.size :].copy()
