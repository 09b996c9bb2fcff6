"""How the default step of the adaptive intervals (``adaptive.DEFAULT_GAMMA``) was chosen.

Synthetic only, no real series: forecast errors of a level-tracking model (a random walk from the
origin plus white noise, so errors grow with the lead), half-hourly, 24 h ahead, as in the forecast
benchmark's protocol: intervals are calibrated on two weeks of backtest origins, then a week is
walked hour by hour, issuing a forecast from every hour and adapting to each observation. Scenarios
for that week: nothing changes, the noise doubles, the noise halves, the level shifts by two
standard deviations of the one-step error; each at the start of the week and at its middle.
Printed: coverage of the issued 90% intervals over the week (what the benchmark scores) and their
mean width relative to no adaptation, per step ``gamma`` (per hour of observations).

Run: ``uv run python bench/adaptive_gamma.py``.
"""

from __future__ import annotations

import numpy as np

from tsdev.analysis.forecast.adaptive import AdaptiveScale

STEP_HOURS = 0.5
HORIZON = 48
STRIDE = 2
CALIBRATION_ORIGINS = 336  # two weeks of hourly origins
WEEK_ORIGINS = 168
GAMMAS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
SEEDS = 40
SCENARIOS = ("none", "noise x2", "noise x0.5", "level +2")


def errors(rng: np.random.Generator, origins: int) -> np.ndarray:
    """Backtest errors ``(origins, HORIZON)`` of forecasts from origins ``STRIDE`` apart."""
    n = origins * STRIDE + HORIZON
    walk = rng.normal(0, 0.3, n)
    white = rng.normal(0, 1.0, n)
    out = np.empty((origins, HORIZON))
    for i in range(origins):
        o = i * STRIDE
        out[i] = np.cumsum(walk[o : o + HORIZON]) + white[o : o + HORIZON]
    return out


def week(rng: np.random.Generator, scenario: str, at: int, gamma: float) -> tuple[float, float]:
    calibration = errors(rng, CALIBRATION_ORIGINS)
    lower = np.quantile(calibration, 0.05, axis=0)
    upper = np.quantile(calibration, 0.95, axis=0)
    n = WEEK_ORIGINS * STRIDE + HORIZON
    noise, shift = np.ones(n), np.zeros(n)
    if scenario == "noise x2":
        noise[at:] = 2.0
    elif scenario == "noise x0.5":
        noise[at:] = 0.5
    elif scenario == "level +2":
        shift[at:] = 2.0
    # The actual at target t (relative to the week start), seen from origin o, is the error itself:
    # build it per point so every origin sees the same actuals (forecasts differ, actuals do not).
    walk = rng.normal(0, 0.3, n) * noise
    white = rng.normal(0, 1.0, n) * noise
    level = np.cumsum(walk)
    actual = level + white + shift
    tracker = AdaptiveScale(alpha=0.1, gamma=gamma, step_hours=STEP_HOURS, horizon=HORIZON)
    inside, width = [], []
    zero = np.zeros(HORIZON)
    for i in range(WEEK_ORIGINS):
        o = i * STRIDE
        # forecast of a level-tracking model: the level at the origin (known), so errors are the walk
        # since the origin plus the white noise, as in calibration.
        mean = np.full(HORIZON, level[o - 1] if o else 0.0)
        bounds = tracker.apply(zero, np.column_stack([lower, upper])) + mean[:, None]
        tracker.issue(o, bounds[:, 0], bounds[:, 1])
        seen = actual[o : o + HORIZON]
        inside.append((seen >= bounds[:, 0]) & (seen <= bounds[:, 1]))
        width.append(float(np.mean(bounds[:, 1] - bounds[:, 0])))
        tracker.observe(o, actual[o : o + STRIDE])
    return float(np.mean(inside)), float(np.mean(width))


def main() -> None:
    print(f"{'scenario':>12s} {'change at':>9s} " + " ".join(f"g={g:<5g}" for g in GAMMAS))
    for scenario in SCENARIOS:
        for at_name, at in (("start", 0), ("middle", WEEK_ORIGINS)):
            if scenario == "none" and at_name == "middle":
                continue
            coverage = np.zeros(len(GAMMAS))
            widths = np.zeros(len(GAMMAS))
            for seed in range(SEEDS):
                for j, gamma in enumerate(GAMMAS):
                    c, w = week(np.random.default_rng(seed), scenario, at, gamma)
                    coverage[j] += c / SEEDS
                    widths[j] += w / SEEDS
            print(f"{scenario:>12s} {at_name:>9s} " + " ".join(f"{c:7.3f}" for c in coverage))
            print(f"{'width':>12s} {'':>9s} " + " ".join(f"{w / widths[0]:7.2f}" for w in widths))


if __name__ == "__main__":
    main()
