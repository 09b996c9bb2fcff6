"""The forecaster lifecycle shared by every model, in the scikit-learn style.

``__init__`` only stores arguments. ``fit(y, X=None)`` validates the series (and declared events in
``X``), learns, stores learned state in attributes ending in ``_`` and returns ``self``.
``predict(h, quantiles=...)`` checks it was fitted and returns a frame with ``timestamp``, ``mean`` and
one column per quantile. ``update(y_new)`` extends the state with newer observations without
re-estimating parameters, which is what makes incremental refresh and cheap rolling-origin backtests
possible.

Subclasses implement three hooks on a *working* series that the base prepares: regular, gap-filled,
with declared events divided out and, for fine steps, averaged to at most ``max_points_per_day`` points
per day (a 1-minute series becomes 5-minute blocks, so a daily season has 288 states, not 1440).
Predictions are brought back to the native step, and intervals are calibrated at the native step, so
minute-level noise is in the intervals even when the model works on coarser blocks.
"""

from __future__ import annotations

import inspect
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
import polars as pl

from tsdev.analysis.forecast._series import (
    DAY,
    FloatArray,
    RegularSeries,
    as_series,
    block_means,
    fill_gaps,
    to_timedelta,
)
from tsdev.analysis.forecast.events import Event, as_events, multipliers
from tsdev.analysis.forecast.intervals import (
    DEFAULT_QUANTILES,
    ConformalTable,
    conformal_quantiles,
    gaussian_quantiles,
    hours_of,
    quantile_column,
    residual_matrix,
    validate_quantiles,
)

MIN_CALIBRATION_ORIGINS = 8
"""Below this many backtest origins, residual quantiles are too noisy to call calibrated."""

UNCALIBRATED_INFLATION = 2.0
"""How much wider than the history's own spread an interval is when no backtest was possible."""


class NotFittedError(ValueError, AttributeError):
    """``predict`` or ``update`` was called before ``fit`` (same bases as scikit-learn's)."""


class InsufficientHistoryError(ValueError):
    """The series is too short for this model; the automatic forecaster falls back instead."""


class Forecaster(ABC):
    """What every forecaster offers: fit, update, point forecast and quantile forecast.

    Fitted subclasses set ``next_time_`` and ``step_`` (where the next forecast starts), ``conformal_``
    (backtest residuals, or ``None``), ``sigma_``, ``floor_`` and ``nonnegative_``; ``predict`` turns
    those into quantiles the same way for single models and for the automatic combination.
    """

    name: ClassVar[str]
    quantiles: Sequence[float]
    next_time_: np.datetime64
    step_: np.timedelta64
    conformal_: ConformalTable | None
    sigma_: float
    floor_: float
    nonnegative_: bool
    fitted_at_: datetime

    @abstractmethod
    def fit(self, y: RegularSeries | pl.DataFrame, X: Sequence[Event] | None = None) -> Self:  # noqa: N803
        """Fit on a regular series; ``X`` holds declared events (past ones and upcoming ones)."""

    def update(self, y_new: npt.ArrayLike | RegularSeries | pl.DataFrame) -> Self:
        """Append observations that follow the fitted history; parameters stay as fitted.

        Plain arrays are taken to start right after the last point seen. A series or frame is placed
        by its timestamps (points already seen are skipped, a jump is treated as a gap).
        """
        self._check_fitted()
        values = aligned_values(y_new, self.next_time_, self.step_)
        if values.size:
            self._append(values)
            self.next_time_ = self.next_time_ + values.size * self.step_
        return self

    @abstractmethod
    def _append(self, values: FloatArray) -> None:
        """Take new observations that start at ``next_time_`` (which ``update`` then advances)."""

    @abstractmethod
    def predict_mean(self, h: int) -> FloatArray:
        """Point forecast of the next ``h`` native steps, declared events applied."""

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments, as scikit-learn's ``get_params(deep=False)``."""
        init = vars(type(self)).get("__init__") or next(
            vars(cls)["__init__"] for cls in type(self).__mro__ if "__init__" in vars(cls)
        )
        names = [
            p.name
            for p in inspect.signature(init).parameters.values()
            if p.kind is p.KEYWORD_ONLY or (p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self")
        ]
        return {name: getattr(self, name) for name in dict.fromkeys(names)}

    def clone(self, **overrides: Any) -> Self:
        """A new, unfitted forecaster with the same arguments except ``overrides``."""
        return type(self)(**{**self.get_params(), **overrides})

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    @property
    def label(self) -> str:
        """Name of this configuration in results and reports (``seasonal_naive_weekly``)."""
        return self.name

    def _check_fitted(self) -> None:
        if not hasattr(self, "next_time_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit first")

    def predict(self, h: int | timedelta, quantiles: Sequence[float] | None = None) -> pl.DataFrame:
        """Forecast ``h`` steps (or a duration) ahead: ``timestamp``, ``mean`` and quantile columns."""
        self._check_fitted()
        steps = self._steps(h)
        qs = validate_quantiles(self.quantiles if quantiles is None else quantiles)
        mean = self.predict_mean(steps)
        return forecast_frame(self.next_time_, self.step_, mean, self._quantiles(mean, qs), qs)

    def _steps(self, h: int | timedelta) -> int:
        """A horizon in native steps: ``h`` itself, or a duration rounded to steps (at least one)."""
        steps = h if isinstance(h, int) else max(1, round(h / to_timedelta(self.step_)))
        if steps < 1:
            raise ValueError("horizon must be at least one step")
        return steps

    def _quantiles(self, mean: FloatArray, qs: Sequence[float]) -> FloatArray:
        if self.conformal_ is not None:
            hours = hours_of(self.next_time_, self.step_, mean.size)
            out = conformal_quantiles(mean, self.conformal_, qs, hours)
        else:
            out = gaussian_quantiles(mean, self.sigma_, qs, UNCALIBRATED_INFLATION)
        out = self._adjust_quantiles(mean, out)
        return np.maximum(out, 0.0) if self.nonnegative_ else out

    def _adjust_quantiles(self, mean: FloatArray, quantiles: FloatArray) -> FloatArray:
        """Hook for online adjustments of the quantiles (see ``AutoForecaster``); none by default."""
        return quantiles

    @property
    def calibrated(self) -> bool:
        """Whether the intervals come from a backtest (else they are the deliberately wide fallback)."""
        self._check_fitted()
        return self.conformal_ is not None


class ModelForecaster(Forecaster):
    """A single model: validation, working resolution, events, gaps and calibration around hooks."""

    def __init__(
        self,
        *,
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
        calibration_horizon: timedelta = DAY,
        calibration_origins: int = 56,
        origin_every: timedelta = timedelta(hours=3),
        history: timedelta | None = timedelta(weeks=8),
        max_points_per_day: int = 288,
    ) -> None:
        self.quantiles = quantiles
        self.calibration_horizon = calibration_horizon
        self.calibration_origins = calibration_origins
        self.origin_every = origin_every
        self.history = history
        self.max_points_per_day = max_points_per_day

    # ---- hooks -------------------------------------------------------------------------------

    @abstractmethod
    def _min_history(self) -> timedelta:
        """Shortest history this model can be fitted on."""

    @abstractmethod
    def _fit_points(self, values: FloatArray, start: np.datetime64, step: np.timedelta64) -> None:
        """Learn from the working series (complete, no gaps)."""

    @abstractmethod
    def _update_points(self, values: FloatArray) -> None:
        """Extend the state with newer working points (complete, no gaps)."""

    @abstractmethod
    def _forecast_points(self, h: int) -> FloatArray:
        """Point forecast of the next ``h`` working points."""

    def _learns_events(self, series: RegularSeries) -> bool:
        """Whether this model learns declared events itself instead of having them divided out."""
        return False

    # ---- lifecycle ---------------------------------------------------------------------------

    def fit(self, y: RegularSeries | pl.DataFrame, X: Sequence[Event] | None = None) -> Self:  # noqa: N803
        series = as_series(y)
        if self.history is not None:
            series = series.tail(self.history)
        self.events_: tuple[Event, ...] = as_events(X)
        if series.span < self._min_history():
            raise InsufficientHistoryError(
                f"{type(self).__name__} needs {self._min_history()} of history, got {series.span}"
            )
        observed = series.values[np.isfinite(series.values)]
        self.nonnegative_ = bool(observed.min() >= 0)
        self.floor_ = max(0.25 * float(np.mean(np.abs(observed))), 1e-9)
        self.sigma_ = max(float(np.std(observed)), 1e-9)
        horizon = series.points(self.calibration_horizon)
        stride = series.points(self.origin_every)
        min_points = series.points(self._min_history())
        origins = min(self.calibration_origins, (len(series) - min_points - horizon) // stride + 1)
        self.conformal_ = None
        if origins >= MIN_CALIBRATION_ORIGINS:
            # Calibrate on the last stretch of history with a model fitted before it, then fit again
            # on everything (cross-validate, then refit on all data). Walking the calibration model
            # on with ``update`` instead would keep what ``update`` does not re-estimate (MSTL's
            # seasonal profiles, every parameter) as of before that stretch, over a week stale.
            split = len(series) - horizon - (origins - 1) * stride
            self._start(series.slice(0, split))
            future = series.values[split:]
            forecasts, actuals = rolling_forecasts(self, future, horizon, stride, origins)
            self.conformal_ = ConformalTable(residual_matrix(actuals, forecasts, self.floor_), self.floor_)
        self._start(series)
        self.fitted_at_ = datetime.now(UTC)
        return self

    def _start(self, series: RegularSeries) -> None:
        self.step_ = series.step
        self.factor_ = max(1, math.ceil(series.points(DAY) / self.max_points_per_day))
        self.events_learned_ = self._learns_events(series)
        values = series.values / self._multipliers(series.timestamps())
        trim = values.size % self.factor_
        work = block_means(values[trim:], self.factor_)
        day_points = max(1, round(series.points(DAY) / self.factor_))
        self._fit_points(
            fill_gaps(work, day_points), series.start + trim * series.step, self.step_ * self.factor_
        )
        self.pending_ = np.empty(0)
        self.next_time_ = series.start + len(series) * series.step

    def _multipliers(self, timestamps: npt.NDArray[np.datetime64]) -> FloatArray:
        if self.events_learned_ or not self.events_:
            return np.ones(timestamps.shape[0])
        return multipliers(self.events_, timestamps)

    def _append(self, values: FloatArray) -> None:
        """Extend the state, whole blocks of the native step at a time."""
        times = self.next_time_ + np.arange(values.size) * self.step_
        self.pending_ = np.concatenate([self.pending_, values / self._multipliers(times)])
        blocks = self.pending_.size // self.factor_
        if blocks:
            work = block_means(self.pending_[: blocks * self.factor_], self.factor_)
            gaps = ~np.isfinite(work)
            if gaps.any():
                work[gaps] = self._forecast_points(blocks)[gaps]
            self._update_points(work)
            self.pending_ = self.pending_[blocks * self.factor_ :]

    def predict_mean(self, h: int) -> FloatArray:
        self._check_fitted()
        done = self.pending_.size
        work = self._forecast_points(math.ceil((done + h) / self.factor_))
        mean = np.repeat(work, self.factor_)[done : done + h]
        mean = mean * self._multipliers(self.next_time_ + np.arange(h) * self.step_)
        return np.maximum(mean, 0.0) if self.nonnegative_ else mean


def aligned_values(
    y_new: npt.ArrayLike | RegularSeries | pl.DataFrame, next_time: np.datetime64, step: np.timedelta64
) -> FloatArray:
    """The values of an update, starting at ``next_time``: plain arrays are taken to start there; a
    series or frame is placed by its timestamps (points before it dropped, a jump filled with gaps)."""
    if not isinstance(y_new, RegularSeries | pl.DataFrame):
        return np.asarray(y_new, dtype=np.float64).ravel()
    series = as_series(y_new)
    if series.step != step:
        raise ValueError("update series has a different step than the fitted one")
    offset = int((series.start - next_time) // step)
    if offset < 0:
        return series.values[-offset:]
    if offset > 0:
        return np.concatenate([np.full(offset, np.nan), series.values])
    return series.values


def forecast_frame(
    start: np.datetime64, step: np.timedelta64, mean: FloatArray, quantiles: FloatArray, qs: Sequence[float]
) -> pl.DataFrame:
    """The frame every forecaster returns: naive UTC ``timestamp``, ``mean``, ``q<level>`` columns."""
    columns: dict[str, Any] = {
        "timestamp": (start + np.arange(mean.size) * step).astype("datetime64[us]"),
        "mean": mean,
    }
    for j, q in enumerate(qs):
        columns[quantile_column(q)] = quantiles[:, j]
    return pl.DataFrame(columns)


def rolling_forecasts(
    model: Forecaster, future: FloatArray, horizon: int, stride: int, origins: int
) -> tuple[FloatArray, FloatArray]:
    """Forecast from ``origins`` successive origins ``stride`` steps apart, feeding ``future`` in.

    The model must be fitted on the history just before ``future``. Parameters stay fixed across
    origins (statsforecast's ``refit=False``); only the state moves, which keeps a week of hourly
    origins to one fit per model. Returns forecasts and actuals, both ``(origins, horizon)``; actuals
    past the end of ``future`` are ``NaN``.
    """
    forecasts = np.empty((origins, horizon))
    actuals = np.full((origins, horizon), np.nan)
    for i in range(origins):
        if i:
            model.update(future[(i - 1) * stride : i * stride])
        forecasts[i] = model.predict_mean(horizon)
        seen = future[i * stride : i * stride + horizon]
        actuals[i, : seen.size] = seen
    return forecasts, actuals
