"""Rolling-origin backtest: how a forecaster would have done on the recent past, per horizon.

The model is fitted once on the history before the first origin, then walked forward an origin at a
time with ``update`` (parameters fixed, state moving), forecasting a full horizon from each. Errors are
reported as MASE (mean absolute error over leads up to each horizon, divided by the in-sample error of
daily seasonal naive, so 1.0 means "no better than yesterday") and intervals as the share of actuals
inside each central interval, which is what calibration means.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import polars as pl

from tsdev.analysis.forecast._series import DAY, WEEK, FloatArray, RegularSeries, as_series
from tsdev.analysis.forecast.base import Forecaster
from tsdev.analysis.forecast.events import Event
from tsdev.analysis.forecast.intervals import quantile_column, validate_quantiles

BACKTEST_QUANTILES = (0.05, 0.1, 0.5, 0.9, 0.95)


def horizon_label(span: timedelta) -> str:
    """``1h``, ``24h``, ``30m``: short keys for scores."""
    minutes = round(span.total_seconds() / 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def mase_scale(values: FloatArray, period: int) -> float:
    """In-sample mean absolute error of seasonal naive at ``period`` (the MASE denominator)."""
    if values.size <= period:
        period = 1
    diffs = np.abs(values[period:] - values[:-period])
    scale = float(np.nanmean(diffs)) if np.isfinite(diffs).any() else 0.0
    return scale if scale > 0 else 1.0


def mase_by_horizon(
    actuals: FloatArray, forecasts: FloatArray, leads: Sequence[int], scale: float
) -> list[float]:
    """MASE over leads ``1..lead`` for each lead, pooled over origins; gaps in actuals are skipped."""
    errors = np.abs(actuals - forecasts)
    return [float(np.nanmean(errors[:, :lead]) / scale) for lead in leads]


def central_intervals(quantiles: Sequence[float]) -> list[tuple[float, float]]:
    """Pairs ``(q, 1 - q)`` present in ``quantiles``: the central intervals they define."""
    qs = set(validate_quantiles(quantiles))
    return [(q, round(1 - q, 10)) for q in sorted(qs) if q < 0.5 and round(1 - q, 10) in qs]


def interval_label(low: float) -> str:
    return f"{round((1 - 2 * low) * 100):g}%"


@dataclass(frozen=True)
class BacktestReport:
    """Scores of one forecaster: MASE per horizon label, coverage per central interval label."""

    model: str
    mase: dict[str, float]
    coverage: dict[str, float]
    below_quantile: dict[str, float]
    origins: int
    fit_seconds: float
    calibrated: bool


def backtest(
    forecaster: Forecaster,
    y: RegularSeries | pl.DataFrame,
    X: Sequence[Event] | None = None,  # noqa: N803
    *,
    horizons: Sequence[timedelta] = (timedelta(hours=1), DAY),
    origins: int = 24,
    origin_every: timedelta = timedelta(hours=1),
    quantiles: Sequence[float] = BACKTEST_QUANTILES,
) -> BacktestReport:
    """Score an unfitted forecaster (it is cloned) on the last ``origins`` origins of ``y``."""
    series = as_series(y)
    qs = validate_quantiles(quantiles)
    leads = [series.points(h) for h in horizons]
    horizon, stride = max(leads), series.points(origin_every)
    split = len(series) - horizon - (origins - 1) * stride
    if split <= 0:
        raise ValueError("series too short for this many origins and this horizon")
    model = forecaster.clone()
    started = time.perf_counter()
    model.fit(series.slice(0, split), X)
    fit_seconds = time.perf_counter() - started
    future = series.values[split:]
    forecasts = np.empty((origins, horizon))
    actuals = np.full((origins, horizon), np.nan)
    bands = np.empty((origins, horizon, len(qs)))
    for i in range(origins):
        if i:
            model.update(future[(i - 1) * stride : i * stride])
        frame = model.predict(horizon, quantiles=qs)
        forecasts[i] = frame["mean"].to_numpy()
        bands[i] = frame.select([quantile_column(q) for q in qs]).to_numpy()
        seen = future[i * stride : i * stride + horizon]
        actuals[i, : seen.size] = seen
    history = series.values[:split][-series.points(4 * WEEK) :]
    scale = mase_scale(history, series.points(DAY))
    observed = np.isfinite(actuals)
    coverage = {}
    for low, high in central_intervals(qs):
        inside = (actuals >= bands[..., qs.index(low)]) & (actuals <= bands[..., qs.index(high)])
        coverage[interval_label(low)] = float(inside[observed].mean())
    below = {quantile_column(q): float((actuals <= bands[..., j])[observed].mean()) for j, q in enumerate(qs)}
    return BacktestReport(
        model=model.label,
        mase=dict(
            zip(
                (horizon_label(h) for h in horizons),
                mase_by_horizon(actuals, forecasts, leads, scale),
                strict=True,
            )
        ),
        coverage=coverage,
        below_quantile=below,
        origins=origins,
        fit_seconds=fit_seconds,
        calibrated=model.calibrated,
    )
