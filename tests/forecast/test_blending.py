"""Stacking weights and hour-of-day interval scaling of the automatic choice."""

from __future__ import annotations

import numpy as np

from tsdev.analysis.forecast.auto import stack_weights
from tsdev.analysis.forecast.intervals import ConformalTable, conformal_quantiles, hours_of


def test_stacking_puts_the_weight_where_the_backtest_supports_it() -> None:
    rng = np.random.default_rng(1)
    truth = rng.normal(100, 10, (40, 12))
    exact, noisy = truth.copy(), truth + rng.normal(0, 20, truth.shape)
    np.testing.assert_allclose(stack_weights([noisy, exact], truth), [0.0, 1.0], atol=1e-9)
    # two forecasts wrong in opposite directions: the blend is their mean
    np.testing.assert_allclose(stack_weights([truth + 5, truth - 5], truth), [0.5, 0.5], atol=1e-6)
    truth[0, 0] = np.nan  # gaps are left out, not propagated
    weights = stack_weights([truth + 5, truth - 5], truth)
    assert np.isfinite(weights).all() and weights.sum() == 1.0


def test_intervals_widen_at_the_hours_whose_errors_were_larger() -> None:
    start = np.datetime64("2024-01-01T00:00", "ns")
    hour = np.timedelta64(1, "h").astype("timedelta64[ns]")
    origins, horizon = 60, 24
    target = np.arange(origins)[:, None] * 24 + np.arange(horizon)[None, :]  # one origin a day
    hours = hours_of(start, hour, int(target.max()) + 1)[target]
    rng = np.random.default_rng(2)
    residuals = rng.normal(0, 0.05, (origins, horizon)) * np.where(hours == 9, 4.0, 1.0)
    table = ConformalTable.by_hour(residuals, hours, floor=1.0)
    mean = np.full(horizon, 100.0)
    bounds = conformal_quantiles(mean, table, (0.05, 0.95), hours_of(start, hour, horizon))
    width = bounds[:, 1] - bounds[:, 0]
    assert width[9] > 3 * np.median(width)
    inside = [
        (mean + residuals[i] * 101 >= bounds[:, 0]) & (mean + residuals[i] * 101 <= bounds[:, 1])
        for i in range(origins)
    ]
    assert 0.85 <= float(np.mean(inside)) <= 0.95
    assert 0.8 <= float(np.mean([row[9] for row in inside])) <= 1.0
    unscaled = conformal_quantiles(mean, table, (0.05, 0.95))  # without hours, no hour is singled out
    assert unscaled[9, 1] - unscaled[9, 0] < 1.5 * np.median(unscaled[:, 1] - unscaled[:, 0])
