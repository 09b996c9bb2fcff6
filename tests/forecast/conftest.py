"""Synthetic series for the forecasting tests: small, seeded, with known daily and weekly cycles."""

from __future__ import annotations

import numpy as np

from tsdev.analysis.forecast import RegularSeries

HALF_HOUR = np.timedelta64(30, "m").astype("timedelta64[ns]")
START = np.datetime64("2024-01-01T00:00", "ns")  # a Monday


def seasonal_series(days: int, noise: float = 5.0, seed: int = 0, weekly: bool = True) -> RegularSeries:
    """Half-hourly traffic: a morning peak, quieter weekends, multiplicative-ish noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(days * 48)
    hour = (t % 48) / 2
    weekday = (t // 48) % 7
    level = 40 + 100 * np.exp(-((hour - 10) ** 2) / 8)
    if weekly:
        level = level * np.where(weekday < 5, 1.0, 0.5)
    return RegularSeries(START, HALF_HOUR, level + rng.normal(0, noise, t.size))
