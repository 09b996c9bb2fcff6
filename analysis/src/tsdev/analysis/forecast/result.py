"""What a forecast run hands to storage, the API and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import polars as pl


@dataclass(frozen=True)
class ForecastResult:
    """A forecast with everything needed to judge it.

    ``cold_start`` is set when history was too short for seasonal models; ``message`` then says so in
    words for the API and CLI. ``scores`` maps each candidate (and combination) to its backtest MASE per
    horizon label; ``coverage`` is the backtest share of actuals inside each central interval of the
    chosen forecast.
    """

    model: str
    fitted_at: datetime
    step: timedelta
    history: timedelta
    cold_start: bool
    calibrated: bool
    message: str
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    coverage: dict[str, float] = field(default_factory=dict)
    forecast: pl.DataFrame | None = None
