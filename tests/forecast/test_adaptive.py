"""Adaptive conformal intervals: they recover coverage after a change the backtest did not show."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tsdev.analysis.forecast import (
    AutoForecaster,
    HoltWintersForecaster,
    RegularSeries,
    SeasonalNaiveForecaster,
)
from tsdev.analysis.forecast.adaptive import DEFAULT_GAMMA, MAX_FACTOR, AdaptiveScale
from tsdev.analysis.forecast.intervals import quantile_column

from .conftest import seasonal_series

QUANTILES = (0.05, 0.1, 0.5, 0.9, 0.95)


def test_misses_widen_their_side_only_and_over_coverage_narrows() -> None:
    tracker = AdaptiveScale(alpha=0.1, gamma=0.1, step_hours=1.0, horizon=4)
    tracker.issue(0, np.full(4, -1.0), np.full(4, 1.0))
    tracker.observe(0, np.array([5.0, 5.0, 0.0, 0.0]))  # two misses above, none below
    assert tracker.upper_factor > 1.0 > tracker.lower_factor
    assert tracker.log_upper == pytest.approx(0.1 * (2 - 4 * 0.05))
    assert tracker.log_lower == pytest.approx(-0.1 * 4 * 0.05)
    mean = np.zeros(2)
    quantiles = np.array([[-2.0, -1.0, 0.5, 1.0, 2.0], [-1.0, -0.5, 0.0, 0.5, 1.0]])
    adjusted = tracker.apply(mean, quantiles)
    assert (np.diff(adjusted, axis=1) >= 0).all()
    np.testing.assert_allclose(adjusted[:, 3], quantiles[:, 3] * tracker.upper_factor)
    np.testing.assert_allclose(adjusted[:, 0], quantiles[:, 0] * tracker.lower_factor)


def test_gaps_are_not_checked_and_a_zero_step_never_moves() -> None:
    tracker = AdaptiveScale(alpha=0.1, gamma=0.1, step_hours=1.0, horizon=3)
    tracker.issue(0, np.full(3, -1.0), np.full(3, 1.0))
    tracker.observe(0, np.full(3, np.nan))
    assert tracker.log_lower == tracker.log_upper == 0.0
    frozen = AdaptiveScale(alpha=0.1, gamma=0.0, step_hours=1.0, horizon=3)
    assert not frozen.due(0)


def test_the_multiplier_stays_bounded_when_scaling_cannot_help() -> None:
    tracker = AdaptiveScale(alpha=0.1, gamma=1.0, step_hours=1.0, horizon=2)
    for position in range(0, 400, 2):  # intervals of zero width: every point misses
        tracker.issue(position, np.zeros(2), np.zeros(2))
        tracker.observe(position, np.full(2, 1.0))
    assert tracker.upper_factor == pytest.approx(MAX_FACTOR)
    assert len(tracker._issued) <= 2  # observed forecasts are dropped


def test_long_run_miss_rate_returns_to_nominal_after_the_noise_doubles() -> None:
    """The ACI guarantee, on a one-step stream: intervals calibrated for unit noise, noise then 2."""
    rng = np.random.default_rng(4)
    z = 1.6449  # the 95% normal quantile: a calibrated 90% interval before the change
    noise = np.concatenate([np.ones(500), np.full(2000, 2.0)])
    actual = rng.normal(0.0, 1.0, noise.size) * noise
    misses = {}
    for gamma in (0.0, 0.1):
        tracker = AdaptiveScale(alpha=0.1, gamma=gamma, step_hours=1.0, horizon=1)
        out = np.zeros(noise.size, dtype=bool)
        for t in range(noise.size):
            bounds = tracker.apply(np.zeros(1), np.array([[-z, z]]))
            tracker.issue(t, bounds[:, 0], bounds[:, 1])
            out[t] = not bounds[0, 0] <= actual[t] <= bounds[0, 1]
            tracker.observe(t, actual[t : t + 1])
        misses[gamma] = float(out[500:].mean())
    assert misses[0.0] > 0.35  # about 0.41 for a z of 1.64 against a noise of 2
    assert abs(misses[0.1] - 0.1) < 0.03


def _walk(model: AutoForecaster, future: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Forecast 24 h from every hour of a week, as the benchmark does: means, bounds, actuals."""
    means, bounds, actuals = [], [], []
    for i in range(0, 7 * 48, 2):
        if i:
            model.update(future[i - 2 : i])
        frame = model.predict(48, quantiles=QUANTILES)
        quantiles = frame.select([quantile_column(q) for q in QUANTILES]).to_numpy()
        assert (np.diff(quantiles, axis=1) >= 0).all()
        means.append(frame["mean"].to_numpy())
        bounds.append(quantiles)
        seen = np.full(48, np.nan)
        seen[: future[i : i + 48].size] = future[i : i + 48]
        actuals.append(seen)
    return np.array(means), np.array(bounds), np.array(actuals)


def _coverage(bounds: np.ndarray, actuals: np.ndarray) -> float:
    observed = np.isfinite(actuals)
    inside = (actuals >= bounds[..., 0]) & (actuals <= bounds[..., -1])
    return float(inside[observed].mean())


@pytest.mark.parametrize("noise_after", [5.0, 10.0])
def test_auto_intervals_recover_coverage_after_the_noise_doubles(noise_after: float) -> None:
    base = seasonal_series(days=29, noise=5.0, seed=3, weekly=False)
    fit_end = 21 * 48
    rng = np.random.default_rng(9)
    values = base.values.copy()
    extra = math.sqrt(noise_after**2 - 25.0)  # on top of the series' own noise of 5
    values[fit_end:] += rng.normal(0.0, extra, values.size - fit_end) if extra else 0.0
    history = RegularSeries(base.start, base.step, values[:fit_end])
    runs = {}
    candidates = [SeasonalNaiveForecaster("daily"), HoltWintersForecaster()]
    for gamma in (0.0, DEFAULT_GAMMA):
        model = AutoForecaster(candidates, adaptive_gamma=gamma)
        runs[gamma] = _walk(model.fit(history), values[fit_end:])
    np.testing.assert_array_equal(runs[0.0][0], runs[DEFAULT_GAMMA][0])  # point forecasts are untouched
    fixed, adaptive = (_coverage(runs[g][1], runs[g][2]) for g in (0.0, DEFAULT_GAMMA))
    later = slice(84, None)  # origins of the second half of the week
    fixed_later = _coverage(runs[0.0][1][later], runs[0.0][2][later])
    adaptive_later = _coverage(runs[DEFAULT_GAMMA][1][later], runs[DEFAULT_GAMMA][2][later])
    if noise_after == 5.0:  # nothing changed: adaptation must not cost coverage or much width
        assert 0.85 <= adaptive <= 0.95 and 0.85 <= fixed <= 0.95
        widths = [float(np.mean(runs[g][1][..., -1] - runs[g][1][..., 0])) for g in (0.0, DEFAULT_GAMMA)]
        assert widths[1] < 1.15 * widths[0]
    else:
        assert fixed < 0.7 and fixed_later < 0.7
        assert adaptive > 0.78 and adaptive_later > 0.85
