"""Automatic model choice per series, by rolling-origin backtest on its own recent history.

No model wins everywhere: Holt-Winters tracks the current level and wins the next hour, while
multi-seasonal and calendar models win a day ahead. So every candidate is fitted once before a
backtest window of two weeks, walked through it, and for each band of lead times (under 1 h, 1-6 h,
beyond) the best single model or equal-weight pair of models is chosen.

The window is split in two halves. The blend is chosen on the earlier half only; its errors on the
later half become its conformal intervals and its reported scores. Choosing and calibrating on the
same origins made the intervals too narrow (the winner of a comparison looks better on the data it
won on than it will be), and a single week was too short to tell models apart, so a lucky week
decided. Under two days of history the choice is not attempted: a cold-start forecast with wide
intervals is returned and flagged.
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

from tsdev.analysis.forecast._series import DAY, WEEK, FloatArray, RegularSeries, as_series, to_timedelta
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
    residual_matrix,
    validate_quantiles,
)
from tsdev.analysis.forecast.mstl import MSTLForecaster
from tsdev.analysis.forecast.naive import SeasonalNaiveForecaster
from tsdev.analysis.forecast.result import ForecastResult

logger = logging.getLogger(__name__)

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
    """Leads ``[start, end)`` (native steps) forecast by an equal-weight mean of ``members``."""

    start: int
    end: int
    members: tuple[str, ...]


class AutoForecaster(Forecaster):
    """Chooses, per lead-time band, the best candidate or pair of candidates by backtest."""

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
    ) -> None:
        self.candidates = candidates
        self.bands = bands
        self.combine = combine
        self.quantiles = quantiles
        self.calibration_horizon = calibration_horizon
        self.calibration_origins = calibration_origins
        self.origin_every = origin_every
        self.cold_start_history = cold_start_history

    @property
    def label(self) -> str:
        if not hasattr(self, "blocks_"):
            return self.name
        return " | ".join(f"{'+'.join(b.members)} [{self._band_text(b)}]" for b in self.blocks_)

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
        self.next_time_ = series.start + len(series) * series.step
        self.fitted_at_ = datetime.now(UTC)
        return self

    def _fit_fallback(self, series: RegularSeries, events: list[Event]) -> None:
        model = ColdStartForecaster(quantiles=self.quantiles).fit(series, events)
        self.members_: dict[str, ModelForecaster] = {model.label: model}
        self.blocks_ = [Block(0, self.horizon_, (model.label,))]
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
        options = self._options(forecasts)
        edges = sorted({0, self.horizon_, *(min(series.points(b), self.horizon_) for b in self.bands)})
        choose, judge = _halves(origins)
        errors = {name: np.abs(actuals[choose] - f[choose]) for name, f in options.items()}
        self.blocks_ = []
        blended = np.empty_like(actuals)
        for start, end in itertools.pairwise(edges):
            best = min(options, key=lambda name: float(np.nanmean(errors[name][:, start:end])))
            self.blocks_.append(Block(start, end, tuple(best.split("+"))))
            blended[:, start:end] = options[best][:, start:end]
        for name in options:
            self.scores_[name] = _mase_at(actuals[judge], options[name][judge], self.bands, series, scale)
        self.scores_[self.name] = _mase_at(actuals[judge], blended[judge], self.bands, series, scale)
        self.conformal_ = ConformalTable(
            residual_matrix(actuals[judge], blended[judge], self.floor_), self.floor_
        )
        # How intervals drawn from one stretch of history covered the next: the chosen blend's
        # residuals on the choosing half, applied to the judging half.
        earlier = ConformalTable(residual_matrix(actuals[choose], blended[choose], self.floor_), self.floor_)
        self.coverage_ = _coverage(earlier, actuals[judge], blended[judge], (*self.quantiles, 0.05, 0.95))
        used = {m for block in self.blocks_ for m in block.members}
        self.members_ = {name: members[name] for name in used}
        for model in self.members_.values():
            model.update(future[(origins - 1) * stride :])
        self.message_ = f"chosen by backtest over {origins} origins: {self.label}"

    def _options(self, forecasts: dict[str, FloatArray]) -> dict[str, FloatArray]:
        options = dict(forecasts)
        if self.combine:
            for a, b in itertools.combinations(sorted(forecasts), 2):
                options[f"{a}+{b}"] = (forecasts[a] + forecasts[b]) / 2
        return options

    def update(self, y_new: npt.ArrayLike | RegularSeries | pl.DataFrame) -> Self:
        self._check_fitted()
        for model in self.members_.values():
            model.update(y_new)
            self.next_time_ = model.next_time_
        return self

    def predict_mean(self, h: int) -> FloatArray:
        self._check_fitted()
        paths = {name: model.predict_mean(h) for name, model in self.members_.items()}
        out = np.empty(h)
        for i, block in enumerate(self.blocks_):
            end = h if i == len(self.blocks_) - 1 else min(block.end, h)
            if block.start < end:
                out[block.start : end] = np.mean([paths[m][block.start : end] for m in block.members], axis=0)
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


def _halves(origins: int) -> tuple[slice, slice]:
    """Earlier origins choose the blend, later ones judge and calibrate it (more recent, so closer
    to the future the intervals are for)."""
    half = origins // 2
    return slice(0, half), slice(half, origins)


def _coverage(
    table: ConformalTable, actuals: FloatArray, forecasts: FloatArray, quantiles: Sequence[float]
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
            bounds = conformal_quantiles(forecasts[i], table, (low, high))
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
