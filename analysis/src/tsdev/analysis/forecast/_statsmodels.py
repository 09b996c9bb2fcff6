"""The one place tsdev talks to statsmodels.

statsmodels is untyped, noisy (convergence and frequency warnings on every fit) and its results
objects are heavy. Everything else in tsdev sees small typed values: fitted smoothing parameters,
decomposition arrays, and an ARIMA state that can be extended and forecast.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from tsdev.analysis.forecast._series import FloatArray


@contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            yield


@dataclass(frozen=True)
class SmoothingParams:
    """Holt-Winters parameters in the error-correction form of Hyndman & Athanasopoulos.

    ``beta`` is the trend smoothing relative to the level (statsmodels' ``smoothing_trend``);
    ``season`` holds the initial seasonal states, oldest first; empty without a season.
    """

    alpha: float
    beta: float
    gamma: float
    phi: float
    level: float
    trend: float
    season: FloatArray
    has_trend: bool


def fit_exponential_smoothing(
    values: FloatArray, period: int | None, *, trend: bool, damped: bool
) -> SmoothingParams:
    """Estimate additive Holt(-Winters) parameters by maximum likelihood.

    Initial seasonal states come from the heuristic decomposition rather than the optimiser: with a
    daily period of 288 points, optimising every initial state is slow and overfits.
    """
    from statsmodels.tsa.holtwinters import ExponentialSmoothing  # type: ignore[import-untyped]

    seasonal = period is not None and period >= 2
    init = "heuristic" if seasonal or values.size >= 10 else "estimated"
    with _quiet():
        model = ExponentialSmoothing(
            values,
            trend="add" if trend else None,
            damped_trend=trend and damped,
            seasonal="add" if seasonal else None,
            seasonal_periods=period if seasonal else None,
            initialization_method=init,
        )
        params: dict[str, Any] = dict(model.fit().params)

    def num(key: str, default: float) -> float:
        value = params.get(key)
        if value is None or not np.isfinite(value):
            return default
        return float(value)

    season = np.asarray(params.get("initial_seasons", ()), dtype=np.float64) if seasonal else np.empty(0)
    return SmoothingParams(
        alpha=num("smoothing_level", 0.5),
        beta=num("smoothing_trend", 0.0) if trend else 0.0,
        gamma=num("smoothing_seasonal", 0.0) if seasonal else 0.0,
        phi=num("damping_trend", 1.0) if trend and damped else 1.0,
        level=num("initial_level", float(values[0])),
        trend=num("initial_trend", 0.0) if trend else 0.0,
        season=season,
        has_trend=trend,
    )


def mstl(values: FloatArray, periods: Sequence[int]) -> tuple[FloatArray, FloatArray, FloatArray]:
    """MSTL decomposition: trend, seasonal components (one row per period, same order) and remainder."""
    from statsmodels.tsa.seasonal import MSTL, STL  # type: ignore[import-untyped]

    with _quiet():
        if len(periods) == 1:
            res = STL(values, period=int(periods[0]), robust=False).fit()
            seasonal = np.asarray(res.seasonal, dtype=np.float64)[None, :]
        else:
            res = MSTL(values, periods=[int(p) for p in periods], iterate=2).fit()
            seasonal = np.asarray(res.seasonal, dtype=np.float64).T.reshape(len(periods), -1)
    return (
        np.asarray(res.trend, dtype=np.float64),
        seasonal,
        np.asarray(res.resid, dtype=np.float64),
    )


def autocorrelation(values: FloatArray, nlags: int) -> FloatArray:
    """Sample autocorrelation at lags ``0..nlags`` (FFT-based, so long lags stay cheap)."""
    from statsmodels.tsa.stattools import acf  # type: ignore[import-untyped]

    with _quiet():
        return np.asarray(acf(values, nlags=nlags, fft=True, missing="conservative"), dtype=np.float64)


class ArimaState:
    """A fitted ARIMA whose parameters stay fixed while new observations extend its state."""

    def __init__(self, values: FloatArray, order: tuple[int, int, int]) -> None:
        from statsmodels.tsa.arima.model import ARIMA  # type: ignore[import-untyped]

        with _quiet():
            trend = "n" if order[1] >= 1 else "c"
            self._results: Any = ARIMA(values, order=order, trend=trend).fit()

    def extend(self, values: FloatArray) -> None:
        """Run the Kalman filter over new observations without re-estimating parameters."""
        with _quiet():
            self._results = self._results.extend(values)

    def forecast(self, steps: int) -> FloatArray:
        with _quiet():
            return np.asarray(self._results.forecast(steps), dtype=np.float64)
