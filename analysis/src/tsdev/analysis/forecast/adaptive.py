"""Adaptive conformal intervals: widen after misses, narrow after over-coverage, as data arrives.

Conformal intervals drawn from a backtest are calibrated only as far as the future resembles the
backtest window. When the series changes after the fit (a holiday week, a noisier regime), they stay
too narrow, or too wide, until the next full fit. Adaptive conformal inference (Gibbs and Candès
2021, "Adaptive conformal inference under distribution shift") keeps the long-run miss rate at the
nominal level under arbitrary shift by moving the working level after every observation,
``alpha_{t+1} = alpha_t + gamma (alpha - err_t)``. Here the same update acts on the logarithm of a
multiplier of the interval's offsets from the point forecast (quantile tracking, of which ACI is the
case on the level scale; Angelopoulos, Candès and Tibshirani 2023, "Conformal PID control for time
series prediction"): it needs no quantile of the backtest residuals beyond their range, never gives
an infinite interval, and applies to every quantile a forecast carries.

How it is applied:

- One multiplier per side of the point forecast, each driving its tail's miss rate toward
  ``alpha / 2`` of a reference central interval (90% by default). A level shift misses on one side;
  widening only that side leaves the other as tight as it was. Every quantile above the point
  forecast is scaled by the upper multiplier, every one below by the lower, so quantiles stay in
  order and the point forecast is untouched.
- Forecasts cover many leads. Each arriving observation is checked against the intervals issued for
  it from every tracked earlier origin (leads one step to the horizon), and its error is the share of
  those that missed. A shift that only the long leads feel is seen as the observations arrive.
- ``gamma`` is per hour of observations: each observation moves the log multiplier by
  ``gamma * step / 1 h * (err - alpha / 2)``, so adaptation takes the same wall time at any step.
  As for ACI, each side's average miss rate over ``T`` hours then stays within about
  ``(log-multiplier range) / (gamma T)`` of ``alpha / 2`` whatever the data do, as long as the clip
  below is not reached.
- The multiplier is kept within ``[1 / MAX_FACTOR, MAX_FACTOR]``: an interval whose offsets are zero
  cannot be widened by scaling, and without a bound its multiplier would grow without end.

The default ``gamma`` was chosen on synthetic residual streams (``bench/adaptive_gamma.py``), not on
any benchmark series: see ``DEFAULT_GAMMA``.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from tsdev.analysis.forecast._series import FloatArray

DEFAULT_GAMMA = 0.1
"""Step size per hour of observations on the log multipliers. Chosen on synthetic forecast errors
(``bench/adaptive_gamma.py``), never on a benchmark series, as the largest step of the grid 0.01,
0.02, 0.05, 0.1, 0.2, 0.5 whose intervals on errors without any change are at most 10% wider than
without adaptation (they were 8% wider; 0.2 made them 28% wider, as the multipliers chase runs of
correlated misses). With it, a week whose noise doubled right after the fit was covered 0.825 of
the time instead of 0.57, a level shift of two one-step deviations 0.92 instead of 0.62, and a week
whose noise halved 0.96 instead of 1.00, with intervals 28% narrower."""

MAX_FACTOR = 10.0
"""Largest widening (and, inverted, narrowing) the multipliers may reach."""

MAX_TRACKED_PATHS = 48
"""At most this many issued forecasts are kept for checking (one per ``horizon / 48`` steps at most),
so minute-level series with day-long horizons keep a bounded, small state."""


@dataclass(frozen=True)
class _Issued:
    """The reference interval forecast at ``position`` for the points ``position, position + 1, ...``."""

    position: int
    lower: FloatArray
    upper: FloatArray


class AdaptiveScale:
    """Online multipliers of the offsets above and below a point forecast (adaptive conformal).

    Positions count native steps from the fit: the forecast issued at position ``p`` is for the
    points ``p, p + 1, ...``, and ``observe(p, values)`` reports the points from ``p`` on.
    """

    def __init__(self, *, alpha: float, gamma: float, step_hours: float, horizon: int) -> None:
        if not 0.0 < alpha < 1.0:
            raise ValueError("alpha must lie strictly between 0 and 1")
        if gamma < 0:
            raise ValueError("gamma must not be negative")
        self.alpha = alpha
        self.rate = gamma * step_hours
        self.horizon = max(1, horizon)
        self.spacing = max(1, math.ceil(self.horizon / MAX_TRACKED_PATHS))
        self.log_lower = 0.0
        self.log_upper = 0.0
        self._issued: deque[_Issued] = deque()
        self._last_issued: int | None = None

    @property
    def lower_factor(self) -> float:
        return math.exp(self.log_lower)

    @property
    def upper_factor(self) -> float:
        return math.exp(self.log_upper)

    @property
    def tail_levels(self) -> tuple[float, float]:
        """The quantile levels of the reference interval (``alpha / 2`` and ``1 - alpha / 2``)."""
        return self.alpha / 2, 1 - self.alpha / 2

    def due(self, position: int) -> bool:
        """Whether a forecast issued at ``position`` should be tracked (see ``MAX_TRACKED_PATHS``)."""
        return self.rate > 0 and (self._last_issued is None or position - self._last_issued >= self.spacing)

    def issue(self, position: int, lower: FloatArray, upper: FloatArray) -> None:
        """Track the reference interval issued at ``position`` (already widened by ``apply``)."""
        size = min(self.horizon, lower.size, upper.size)
        self._issued.append(_Issued(position, lower[:size].copy(), upper[:size].copy()))
        self._last_issued = position

    def observe(self, position: int, values: FloatArray) -> None:
        """Compare the points from ``position`` with the intervals issued for them; adapt."""
        n = values.size
        if n == 0:
            return
        below = np.zeros(n)
        above = np.zeros(n)
        checks = np.zeros(n)
        for path in self._issued:
            start = max(position, path.position)
            end = min(position + n, path.position + path.lower.size)
            if start >= end:
                continue
            seen = values[start - position : end - position]
            here = slice(start - position, end - position)
            offset = slice(start - path.position, end - path.position)
            finite = np.isfinite(seen)
            checks[here] += finite
            below[here] += finite & (seen < path.lower[offset])
            above[here] += finite & (seen > path.upper[offset])
        checked = checks > 0
        if checked.any():
            target = self.alpha / 2
            low_err = below[checked] / checks[checked]
            high_err = above[checked] / checks[checked]
            self.log_lower = _clipped(self.log_lower + self.rate * float(np.sum(low_err - target)))
            self.log_upper = _clipped(self.log_upper + self.rate * float(np.sum(high_err - target)))
        while self._issued and self._issued[0].position + self._issued[0].lower.size <= position + n:
            self._issued.popleft()

    def apply(self, mean: FloatArray, quantiles: FloatArray) -> FloatArray:
        """Scale each quantile's offset from ``mean`` by its side's multiplier (order is kept)."""
        offsets = quantiles - mean[:, None]
        scaled = np.where(offsets > 0, offsets * self.upper_factor, offsets * self.lower_factor)
        return np.asarray(mean[:, None] + scaled, dtype=np.float64)


def _clipped(log_factor: float) -> float:
    limit = math.log(MAX_FACTOR)
    return min(limit, max(-limit, log_factor))
