"""The additive Holt-Winters recursion, run by tsdev rather than by statsmodels.

statsmodels estimates the parameters; running the recursion here lets a fitted model absorb new
observations point by point with fixed parameters (statsmodels' Holt-Winters results cannot be
extended), which is what incremental refresh and cheap backtests need. The equations are those of
statsmodels' ``ExponentialSmoothing`` (checked to reproduce its fitted values exactly).
"""

from __future__ import annotations

import numpy as np

from tsdev.analysis.forecast._series import FloatArray
from tsdev.analysis.forecast._statsmodels import SmoothingParams


class SmoothingState:
    """Level, trend and seasonal states of a fitted additive (damped) Holt-Winters model."""

    def __init__(self, params: SmoothingParams, values: FloatArray) -> None:
        self.params = params
        self.level = params.level
        self.trend = params.trend
        self.season = params.season.astype(np.float64).copy()
        self.t = 0
        self.update(values)

    def update(self, values: FloatArray) -> None:
        p = self.params
        alpha, beta, gamma, phi = p.alpha, p.beta, p.gamma, p.phi
        level, trend = self.level, self.trend
        season = self.season
        m = season.size
        t = self.t
        for y in values.tolist():
            s = season[t % m] if m else 0.0
            damped = level + phi * trend
            new_level = alpha * (y - s) + (1.0 - alpha) * damped
            trend = beta * (new_level - level) + (1.0 - beta) * phi * trend
            if m:
                season[t % m] = gamma * (y - damped) + (1.0 - gamma) * s
            level = new_level
            t += 1
        self.level, self.trend, self.t = level, trend, t

    def forecast(self, h: int) -> FloatArray:
        phi = self.params.phi
        steps = np.arange(1, h + 1)
        damped_sum = steps.astype(np.float64) if phi == 1.0 else phi * (1.0 - phi**steps) / (1.0 - phi)
        out = self.level + damped_sum * self.trend
        m = self.season.size
        if m:
            out = out + self.season[(self.t + steps - 1) % m]
        return np.asarray(out, dtype=np.float64)
