"""Prediction intervals from backtest residuals (split-conformal style).

Model-based intervals (ETS variance formulas, ARIMA standard errors) assume the model is right; on
traffic with outages, bursts and shifting peaks they are too narrow. Quantiles of the errors a model
actually made, at each lead time, on history it had not seen are calibrated by construction as far as
the future resembles the recent past, and work the same way for every model and for combinations.

Errors are scaled by the forecast level plus a floor, so intervals widen at the daily peak and
narrow at night (traffic noise grows with traffic) without collapsing to zero where traffic is zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from tsdev.analysis.forecast._series import FloatArray

HOURS_PER_DAY = 24
NS_PER_HOUR = 3_600_000_000_000
MIN_HOUR_SCALE = 1e-3
"""Smallest relative spread of an hour, so an hour whose residuals were all zero keeps a sliver."""

DEFAULT_QUANTILES: tuple[float, ...] = (0.1, 0.5, 0.9, 0.95)
"""The quantiles a forecast carries unless asked otherwise: a median, an 80% band and a 95% bound."""


def validate_quantiles(quantiles: Sequence[float]) -> tuple[float, ...]:
    qs = tuple(sorted({float(q) for q in quantiles}))
    if not qs or any(not 0.0 < q < 1.0 for q in qs):
        raise ValueError("quantiles must lie strictly between 0 and 1")
    return qs


def quantile_column(q: float) -> str:
    """Column name of a quantile: ``q0.1``, ``q0.95``."""
    return f"q{q:g}"


def scale_of(mean: FloatArray, floor: float) -> FloatArray:
    return np.abs(mean) + floor


@dataclass(frozen=True, eq=False)
class ConformalTable:
    """Scaled residuals (actual minus forecast, divided by ``scale_of``) per lead time.

    ``residuals`` has one row per backtest origin and one column per lead; ``NaN`` where the actual
    was a gap. Leads past the last column reuse it.
    """

    residuals: FloatArray
    floor: float
    hour_scale: FloatArray | None = None
    """Typical size of the residuals at each hour of the day (UTC) relative to all hours, when the
    table was built ``by_hour``; ``residuals`` are then divided by it."""
    _cache: dict[tuple[tuple[float, ...], int], FloatArray] = field(default_factory=dict, repr=False)

    @classmethod
    def by_hour(cls, residuals: FloatArray, hours: npt.NDArray[np.int64], floor: float) -> ConformalTable:
        """A table whose intervals widen and narrow with the hour of the day of the forecast time.

        Errors differ by hour beyond what the forecast level explains (the morning ramp is harder to
        time than the night), so one set of quantiles per lead is too wide at some hours and too narrow
        at others. Dividing each residual by its hour's mean absolute residual and multiplying back at
        prediction time (locally weighted conformal prediction) keeps coverage close to nominal at
        every hour. ``hours`` gives the hour of the forecast time of each residual.
        """
        size = np.abs(residuals)
        finite = np.isfinite(size)
        overall = float(size[finite].mean()) if finite.any() else 0.0
        scale = np.ones(HOURS_PER_DAY)
        if overall > 0:
            for hour in range(HOURS_PER_DAY):
                here = finite & (hours == hour)
                if here.any():
                    scale[hour] = max(float(size[here].mean()) / overall, MIN_HOUR_SCALE)
        return cls(residuals / scale[hours], floor, scale)

    def offsets(self, quantiles: Sequence[float], h: int) -> FloatArray:
        """Scaled quantile offsets, shape ``(h, len(quantiles))``.

        Neighbouring leads are pooled (a window growing with the lead) because a few dozen origins
        per lead make the extreme quantiles noisy, and errors at lead 40 and 44 are alike.
        """
        key = (tuple(quantiles), h)
        if key in self._cache:
            return self._cache[key]
        horizon = self.residuals.shape[1]
        qs = np.asarray(quantiles)
        out = np.empty((h, qs.size))
        cache: dict[int, FloatArray] = {}
        for k in range(h):
            lead = min(k, horizon - 1)
            if lead not in cache:
                half = max(1, lead // 6)
                window = self.residuals[:, max(0, lead - half) : min(horizon, lead + half + 1)]
                sample = window[np.isfinite(window)]
                cache[lead] = np.quantile(sample, qs) if sample.size else np.zeros(qs.size, dtype=np.float64)
            out[k] = cache[lead]
        self._cache[key] = out
        return out


def conformal_quantiles(
    mean: FloatArray,
    table: ConformalTable,
    quantiles: Sequence[float],
    hours: npt.NDArray[np.int64] | None = None,
) -> FloatArray:
    """Quantile forecasts, shape ``(len(mean), len(quantiles))``, ordered along each row.

    ``hours`` (of each forecast time) applies a table's ``hour_scale``; without it, none is applied.
    """
    offsets = table.offsets(quantiles, mean.size)
    if table.hour_scale is not None and hours is not None:
        offsets = offsets * table.hour_scale[hours][:, None]
    out = mean[:, None] + offsets * scale_of(mean, table.floor)[:, None]
    return np.sort(out, axis=1)


def gaussian_quantiles(
    mean: FloatArray, sigma: float, quantiles: Sequence[float], inflation: float
) -> FloatArray:
    """Deliberately wide normal intervals for when no backtest was possible (too little history).

    ``sigma`` is the spread of the history itself, not of any model's errors, and it is inflated: an
    uncalibrated interval should err on the side of admitting ignorance.
    """
    z = np.array([NormalDist().inv_cdf(q) for q in quantiles])
    return np.sort(mean[:, None] + inflation * sigma * z[None, :], axis=1)


def hours_of(start: np.datetime64, step: np.timedelta64, count: int) -> npt.NDArray[np.int64]:
    """Hour of the day (UTC) of ``count`` points ``step`` apart from ``start``."""
    first = start.astype("datetime64[ns]").astype(np.int64)
    ns = first + np.arange(count, dtype=np.int64) * step.astype("timedelta64[ns]").astype(np.int64)
    return np.asarray((ns // NS_PER_HOUR) % HOURS_PER_DAY, dtype=np.int64)


def residual_matrix(actual: FloatArray, forecast: FloatArray, floor: float) -> FloatArray:
    return (actual - forecast) / scale_of(forecast, floor)
