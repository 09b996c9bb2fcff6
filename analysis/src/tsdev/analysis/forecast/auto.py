"""Automatic model choice per series, by rolling-origin backtest on its own recent history.

No model wins everywhere: Holt-Winters tracks the current level and wins the next hour, while
multi-seasonal and calendar models win a day ahead. So every candidate is fitted once before a
backtest window of two weeks, walked through it, and for each band of lead times (under 1 h, 1-6 h,
beyond) its forecasts are stacked: a weighted mean of the candidates, with non-negative weights
summing to one fitted by least squares on the backtest. Picking one model, or the best equal-weight
pair, staked everything on a comparison that the next week often reversed; a blend spreads that
bet as far as the backtest supports it. (``combine=False`` picks the best single model instead.)
The members the blend keeps are then fitted again on the whole history: the backtest judged each
candidate's fitting procedure, and the fits it judged end two weeks before the present.

The blend that is kept is fitted on the whole window: a single week was too short to tell models
apart, so a lucky week decided. Its intervals and reported scores are cross-fitted: the window is
split in two halves, each half is forecast by the blend fitted on the other, and the errors of
these forecasts (made by the fitting procedure on origins it had not seen) become the conformal
intervals, scaled to each hour of the day's typical error (``ConformalTable.by_hour``). Fitting
and calibrating on the same origins made the intervals too narrow (a blend fitted to some data looks
better on it than it will be). Under two days of history the choice is not attempted: a cold-start
forecast with wide intervals is returned and flagged.

After the fit, the intervals adapt online (``adaptive``): every observation passed to ``update`` is
checked against the intervals forecast for it, and the spread above and below the point forecast
widens after misses and narrows after over-coverage (adaptive conformal inference). The backtest
weeks cannot foresee a change after the fit; this corrects for it within hours instead of at the
next full fit. ``adaptive_gamma=0`` turns it off.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Self

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy.optimize import nnls  # type: ignore[import-untyped]

from tsdev.analysis.forecast._series import DAY, WEEK, FloatArray, RegularSeries, as_series, to_timedelta
from tsdev.analysis.forecast.adaptive import DEFAULT_GAMMA, AdaptiveScale
from tsdev.analysis.forecast.backtest import central_intervals, horizon_label, interval_label, mase_scale
from tsdev.analysis.forecast.base import (
    MIN_CALIBRATION_ORIGINS,
    Forecaster,
    InsufficientHistoryError,
    ModelForecaster,
    rolling_forecasts,
)
from tsdev.analysis.forecast.boosting import BoostedRegressionForecaster
from tsdev.analysis.forecast.cold_start import ColdStartForecaster
from tsdev.analysis.forecast.events import Event, as_events
from tsdev.analysis.forecast.holt_winters import HoltWintersForecaster
from tsdev.analysis.forecast.intervals import (
    DEFAULT_QUANTILES,
    ConformalTable,
    conformal_quantiles,
    hours_of,
    residual_matrix,
    validate_quantiles,
)
from tsdev.analysis.forecast.mstl import MSTLForecaster
from tsdev.analysis.forecast.naive import SeasonalNaiveForecaster
from tsdev.analysis.forecast.result import ForecastResult

logger = logging.getLogger(__name__)

MIN_WEIGHT = 0.01
"""Stacking weights below this share of the total are dropped (see ``stack_weights``)."""

COLD_START_HISTORY = 2 * DAY
"""Below this much history no seasonal model is fitted (see ``ColdStartForecaster``)."""


def default_candidates() -> list[ModelForecaster]:
    """The model families of issue 6, in their default configuration."""
    return [
        SeasonalNaiveForecaster("daily"),
        SeasonalNaiveForecaster("weekly"),
        HoltWintersForecaster(),
        MSTLForecaster("ets"),
        MSTLForecaster("arima"),
        BoostedRegressionForecaster(),
    ]


@dataclass(frozen=True)
class Block:
    """Leads ``[start, end)`` (native steps) forecast by the mean of ``members`` with ``weights``."""

    start: int
    end: int
    members: tuple[str, ...]
    weights: tuple[float, ...]

    @property
    def text(self) -> str:
        if len(self.members) == 1:
            return self.members[0]
        return "+".join(f"{w:.2f}*{m}" for m, w in zip(self.members, self.weights, strict=True))


class AutoForecaster(Forecaster):
    """Blends the candidates per lead-time band with weights fitted by backtest."""

    name = "auto"

    def __init__(
        self,
        candidates: Sequence[ModelForecaster] | None = None,
        *,
        bands: Sequence[timedelta] = (timedelta(hours=1), timedelta(hours=6)),
        combine: bool = True,
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
        calibration_horizon: timedelta = DAY,
        calibration_origins: int = 168,
        origin_every: timedelta = timedelta(hours=2),
        cold_start_history: timedelta = COLD_START_HISTORY,
        adaptive_gamma: float = DEFAULT_GAMMA,
        adaptive_level: float = 0.9,
    ) -> None:
        self.candidates = candidates
        self.bands = bands
        self.combine = combine
        self.quantiles = quantiles
        self.calibration_horizon = calibration_horizon
        self.calibration_origins = calibration_origins
        self.origin_every = origin_every
        self.cold_start_history = cold_start_history
        self.adaptive_gamma = adaptive_gamma
        self.adaptive_level = adaptive_level

    @property
    def label(self) -> str:
        if not hasattr(self, "blocks_"):
            return self.name
        return " | ".join(f"{b.text} [{self._band_text(b)}]" for b in self.blocks_)

    def _band_text(self, block: Block) -> str:
        step = to_timedelta(self.step_)
        low = horizon_label(block.start * step) if block.start else "0"
        return f"{low}-{horizon_label(block.end * step)}" if block.end < self.horizon_ else f"{low}+"

    def fit(self, y: RegularSeries | pl.DataFrame, X: Sequence[Event] | None = None) -> Self:  # noqa: N803
        series = as_series(y)
        events = list(as_events(X))
        self.step_ = series.step
        observed = series.values[np.isfinite(series.values)]
        self.nonnegative_ = bool(observed.min() >= 0)
        self.floor_ = max(0.25 * float(np.mean(np.abs(observed))), 1e-9)
        self.sigma_ = max(float(np.std(observed)), 1e-9)
        self.conformal_ = None
        self.adaptive_: AdaptiveScale | None = None
        self.position_ = 0
        self._path: tuple[int, FloatArray] | None = None
        self.scores_: dict[str, dict[str, float]] = {}
        self.coverage_: dict[str, float] = {}
        self.history_span_ = series.span
        self.cold_start_ = series.span < self.cold_start_history
        self.horizon_ = series.points(self.calibration_horizon)
        stride = series.points(self.origin_every)
        origins = min(
            self.calibration_origins, (len(series) - series.points(2 * DAY) - self.horizon_) // stride + 1
        )
        if self.cold_start_ or origins < MIN_CALIBRATION_ORIGINS:
            self._fit_fallback(series, events)
        else:
            self._fit_selection(series, events, origins, stride)
        if self.conformal_ is not None and self.adaptive_gamma > 0:
            # Only calibrated intervals adapt: the fallback's are deliberately wide.
            self.adaptive_ = AdaptiveScale(
                alpha=1 - self.adaptive_level,
                gamma=self.adaptive_gamma,
                step_hours=to_timedelta(series.step) / timedelta(hours=1),
                horizon=self.horizon_,
            )
        self.next_time_ = series.start + len(series) * series.step
        self.fitted_at_ = datetime.now(UTC)
        return self

    def _fit_fallback(self, series: RegularSeries, events: list[Event]) -> None:
        model = ColdStartForecaster(quantiles=self.quantiles).fit(series, events)
        self.members_: dict[str, ModelForecaster] = {model.label: model}
        self.blocks_ = [Block(0, self.horizon_, (model.label,), (1.0,))]
        if self.cold_start_:
            self.message_ = (
                f"only {series.span} of history (under {self.cold_start_history}): no seasonal model is "
                "fitted and intervals are deliberately wide; forecasts improve once more is recorded"
            )
        else:
            self.message_ = f"{series.span} of history is too little to backtest models; intervals are wide"
        logger.info("forecast fallback: %s", self.message_)

    def _fit_selection(self, series: RegularSeries, events: list[Event], origins: int, stride: int) -> None:
        split = len(series) - self.horizon_ - (origins - 1) * stride
        prefix, future = series.slice(0, split), series.values[split:]
        members: dict[str, ModelForecaster] = {}
        forecasts: dict[str, FloatArray] = {}
        actuals = np.empty(0)
        for template in self.candidates if self.candidates is not None else default_candidates():
            model = template.clone(calibration_origins=0, quantiles=self.quantiles)
            try:
                model.fit(prefix, events)
            except InsufficientHistoryError:
                continue
            except (ValueError, np.linalg.LinAlgError) as error:
                # One candidate failing (a degenerate decomposition, say) must not fail the forecast.
                logger.warning("forecast candidate %s failed: %s", model.label, error)
                continue
            forecasts[model.label], actuals = rolling_forecasts(model, future, self.horizon_, stride, origins)
            members[model.label] = model
        if not members:
            self._fit_fallback(series, events)
            return
        scale = mase_scale(prefix.values[-series.points(4 * WEEK) :], series.points(DAY))
        edges = sorted({0, self.horizon_, *(min(series.points(b), self.horizon_) for b in self.bands)})
        earlier, later = _halves(origins)
        self.blocks_ = self._blend(forecasts, actuals, edges, slice(0, origins))
        # Cross-fitted forecasts: each half forecast by the blend fitted on the other half. Their
        # errors are those of the fitting procedure on origins it did not see, so they score the
        # blend and calibrate its intervals without the optimism of a fit judged where it was made.
        crossed = np.empty_like(actuals)
        crossed[earlier] = _apply(self._blend(forecasts, actuals, edges, later), forecasts)[earlier]
        crossed[later] = _apply(self._blend(forecasts, actuals, edges, earlier), forecasts)[later]
        for name in forecasts:
            self.scores_[name] = _mase_at(actuals, forecasts[name], self.bands, series, scale)
        self.scores_[self.name] = _mase_at(actuals, crossed, self.bands, series, scale)
        # Position in ``future`` of each backtest forecast's target, hence the hour of the day it is for.
        target = np.arange(origins)[:, None] * stride + np.arange(self.horizon_)[None, :]
        hours = hours_of(series.start + split * series.step, series.step, int(target.max()) + 1)[target]
        residuals = residual_matrix(actuals, crossed, self.floor_)
        self.conformal_ = ConformalTable.by_hour(residuals, hours, self.floor_)
        # How intervals drawn from one stretch of history covered the next: the cross-fitted
        # residuals of the earlier half, applied to the later half.
        first = ConformalTable.by_hour(residuals[earlier], hours[earlier], self.floor_)
        self.coverage_ = _coverage(
            first, actuals[later], crossed[later], hours[later], (*self.quantiles, 0.05, 0.95)
        )
        used = {m for block in self.blocks_ for m in block.members}
        self.members_ = {name: members[name] for name in used}
        for name, model in self.members_.items():
            self.members_[name] = _refitted(name, model, series, events, future[(origins - 1) * stride :])
        self.message_ = f"blend fitted by backtest over {origins} origins: {self.label}"

    def _blend(
        self, forecasts: dict[str, FloatArray], actuals: FloatArray, edges: list[int], rows: slice
    ) -> list[Block]:
        """Per band of leads, the blend fitted on the origins ``rows``: stacked weights, or with
        ``combine=False`` the single candidate of least mean absolute error."""
        names = sorted(forecasts)
        blocks = []
        for start, end in itertools.pairwise(edges):
            target = actuals[rows, start:end]
            columns = [forecasts[name][rows, start:end] for name in names]
            if self.combine:
                weights = stack_weights(columns, target)
            else:
                errors = [float(np.nanmean(np.abs(target - column))) for column in columns]
                weights = np.eye(len(names))[int(np.argmin(errors))]
            used = [i for i in np.argsort(-weights, kind="stable") if weights[i] > 0]
            blocks.append(
                Block(start, end, tuple(names[i] for i in used), tuple(float(weights[i]) for i in used))
            )
        return blocks

    def _append(self, values: FloatArray) -> None:
        """Pass the observations to every member and adapt the intervals to them."""
        if self.adaptive_ is not None:
            if self.adaptive_.due(self.position_):
                mean = self.predict_mean(self.horizon_)
                bounds = self._quantiles(mean, self.adaptive_.tail_levels)
                self.adaptive_.issue(self.position_, bounds[:, 0], bounds[:, 1])
            self.adaptive_.observe(self.position_, values)
        for model in self.members_.values():
            model.update(values)
        self.position_ += values.size
        self._path = None

    def _adjust_quantiles(self, mean: FloatArray, quantiles: FloatArray) -> FloatArray:
        return quantiles if self.adaptive_ is None else self.adaptive_.apply(mean, quantiles)

    def predict_mean(self, h: int) -> FloatArray:
        self._check_fitted()
        # The path from the current origin is kept until the next update: ``update`` checks the
        # intervals of the forecast ``predict`` just made, without forecasting again.
        if self._path is not None and self._path[0] == self.position_ and self._path[1].size >= h:
            return self._path[1][:h].copy()
        out = self._blend_paths(h)
        self._path = (self.position_, out)
        return out.copy()

    def _blend_paths(self, h: int) -> FloatArray:
        paths = {name: model.predict_mean(h) for name, model in self.members_.items()}
        out = np.empty(h)
        for i, block in enumerate(self.blocks_):
            end = h if i == len(self.blocks_) - 1 else min(block.end, h)
            if block.start < end:
                out[block.start : end] = sum(
                    w * paths[m][block.start : end] for m, w in zip(block.members, block.weights, strict=True)
                )
        return out

    def result(self, forecast: pl.DataFrame | None = None) -> ForecastResult:
        """Describe the fitted choice, optionally with a forecast frame, for storage and display."""
        self._check_fitted()
        return ForecastResult(
            model=self.label,
            fitted_at=self.fitted_at_,
            step=to_timedelta(self.step_),
            history=self.history_span_,
            cold_start=self.cold_start_,
            calibrated=self.calibrated,
            message=self.message_,
            scores=self.scores_,
            coverage=self.coverage_,
            forecast=forecast,
        )


def _refitted(
    name: str, model: ModelForecaster, series: RegularSeries, events: list[Event], rest: FloatArray
) -> ModelForecaster:
    """A member of the blend fitted again on the whole history.

    The backtest judged each candidate's fitting procedure; the fit it judged ended two weeks ago,
    and walking it through those weeks moves states but re-estimates nothing (seasonal profiles,
    smoothing parameters, trees). Should the new fit fail, the old one is walked to the present.
    """
    try:
        return model.clone().fit(series, events)
    except (ValueError, np.linalg.LinAlgError) as error:
        logger.warning("forecast member %s keeps its backtest fit: %s", name, error)
        return model.update(rest)


def _mase_at(
    actuals: FloatArray,
    forecasts: FloatArray,
    bands: Sequence[timedelta],
    series: RegularSeries,
    scale: float,
) -> dict[str, float]:
    errors = np.abs(actuals - forecasts)
    out = {}
    for band in (*bands, to_timedelta(series.step) * actuals.shape[1]):
        lead = min(series.points(band), actuals.shape[1])
        out[horizon_label(band)] = float(np.nanmean(errors[:, :lead]) / scale)
    return out


def stack_weights(columns: Sequence[FloatArray], target: FloatArray) -> FloatArray:
    """Non-negative weights summing to one for the ``columns`` (forecasts) that fit ``target`` best
    in least squares, over the points where all are observed.

    Weights under ``MIN_WEIGHT`` are dropped (and the rest rescaled): a member costs a fit and an
    update at every refit, for a contribution within the noise of the estimate.
    """
    x = np.column_stack([np.ravel(c) for c in columns])
    y = np.ravel(target)
    observed = np.isfinite(y) & np.isfinite(x).all(axis=1)
    if not observed.any():
        return np.full(len(columns), 1.0 / len(columns))
    weights = np.asarray(nnls(x[observed], y[observed])[0], dtype=np.float64)
    weights[weights < MIN_WEIGHT * weights.sum()] = 0.0
    total = float(weights.sum())
    return weights / total if total > 0 else np.full(len(columns), 1.0 / len(columns))


def _apply(blocks: Sequence[Block], forecasts: dict[str, FloatArray]) -> FloatArray:
    """The backtest forecasts a blend would have made at every origin."""
    out = np.zeros_like(next(iter(forecasts.values())))
    for block in blocks:
        for member, weight in zip(block.members, block.weights, strict=True):
            out[:, block.start : block.end] += weight * forecasts[member][:, block.start : block.end]
    return out


def _halves(origins: int) -> tuple[slice, slice]:
    """The earlier and the later half of the backtest origins, for cross-fitting."""
    half = origins // 2
    return slice(0, half), slice(half, origins)


def _coverage(
    table: ConformalTable,
    actuals: FloatArray,
    forecasts: FloatArray,
    hours: npt.NDArray[np.int64],
    quantiles: Sequence[float],
) -> dict[str, float]:
    """Share of observed actuals inside each central interval the quantiles define."""
    qs = validate_quantiles(quantiles)
    out: dict[str, float] = {}
    observed = np.isfinite(actuals)
    if not observed.any():
        return out
    for low, high in central_intervals(qs):
        inside = np.zeros_like(actuals, dtype=bool)
        for i in range(actuals.shape[0]):
            bounds = conformal_quantiles(forecasts[i], table, (low, high), hours[i])
            inside[i] = (actuals[i] >= bounds[:, 0]) & (actuals[i] <= bounds[:, 1])
        out[interval_label(low)] = float(inside[observed].mean())
    return out


def forecast_series(
    y: RegularSeries | pl.DataFrame,
    events: Sequence[Event] | None = None,
    *,
    horizon: timedelta = 2 * DAY,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    forecaster: AutoForecaster | None = None,
) -> ForecastResult:
    """Fit the automatic choice on ``y`` and forecast ``horizon`` ahead: the entry point for jobs."""
    model = (forecaster or AutoForecaster(quantiles=quantiles)).fit(y, events)
    frame = model.predict(horizon, quantiles=quantiles)
    return model.result(frame)
