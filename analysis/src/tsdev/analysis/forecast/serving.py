"""What the API needs from forecasting: parameter parsing and the current forecast of a service.

Forecasts are normally fitted by the refit job and only read here. A service the job has not reached
yet (it just started sending, or the job interval has not passed), or one whose declared events
changed after its last fit, is fitted on demand, so an answer never ignores an event the user just
declared and never says "no forecast" for a service that has traffic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from tsdev.analysis.forecast._series import RegularSeries, block_means, to_datetime
from tsdev.analysis.forecast.refit import ForecastRefitter
from tsdev.analysis.forecast.storage import (
    STORED_QUANTILES,
    StoredForecast,
    StoredSeasonality,
    latest_forecast,
    latest_seasonality,
    list_events,
    save_seasonality,
)
from tsdev.analysis.seasonality import analyze_seasonality
from tsdev.core.query import InvalidParameterError, parse_duration

_NUMBER = re.compile(r"^\s*\d*\.?\d+\s*$")


def parse_horizon(text: str, maximum: timedelta, parameter: str = "horizon") -> timedelta:
    """A span such as ``48h`` or ``2d``, positive and at most ``maximum`` (the stored horizon)."""
    horizon = timedelta(microseconds=parse_duration(text, parameter) // 1000)
    if horizon <= timedelta(0):
        raise InvalidParameterError(parameter, "must be positive")
    if horizon > maximum:
        raise InvalidParameterError(parameter, f"at most {_words(maximum)}")
    return horizon


def parse_step(text: str, base: timedelta, horizon: timedelta) -> timedelta:
    """A step that is a whole multiple of the stored step (one minute) and not longer than the horizon."""
    step = timedelta(microseconds=parse_duration(text, "step") // 1000)
    if step < base or step % base:
        raise InvalidParameterError("step", f"must be a whole multiple of {_words(base)}")
    if step > horizon:
        raise InvalidParameterError("step", "must not be longer than the horizon")
    return step


def parse_quantiles(text: str) -> tuple[float, ...]:
    """Comma-separated quantiles inside the stored grid (0.01 to 0.99)."""
    parts = [p for p in text.split(",") if p.strip()]
    if not parts or any(not _NUMBER.match(p) for p in parts):
        raise InvalidParameterError("quantiles", "a comma-separated list such as 0.1,0.5,0.9")
    values = tuple(sorted({float(p) for p in parts}))
    low, high = STORED_QUANTILES[0], STORED_QUANTILES[-1]
    if values[0] < low or values[-1] > high:
        raise InvalidParameterError("quantiles", f"each must lie between {low:g} and {high:g}")
    return values


def _words(span: timedelta) -> str:
    hours = span / timedelta(hours=1)
    return f"{hours:g}h" if hours >= 1 else f"{span / timedelta(minutes=1):g}m"


def current_forecast(refitter: ForecastRefitter, service: str, operation: str = "") -> StoredForecast | None:
    """The stored forecast, refitted first when missing or older than the service's events.

    ``None`` when the service (or operation) has no request in the lookback: an unknown name.
    """
    store = refitter.store
    stored = latest_forecast(store, service, operation)
    events = list_events(store, service)
    newest_event = max((e.created_at for e in events), default=None)
    stale = stored is None or (newest_event is not None and newest_event >= stored.fitted_at)
    if stale and refitter.refit(service, operation, full=stored is not None) is None:
        return None
    return latest_forecast(store, service, operation) if stale else stored


def current_seasonality(refitter: ForecastRefitter, service: str) -> StoredSeasonality | None:
    """The stored seasonality of ``service``, analysed on demand when missing; ``None`` if unknown."""
    store = refitter.store
    stored = latest_seasonality(store, service)
    if stored is not None:
        return stored
    series = refitter.settings.source.series(store, service, lookback=refitter.settings.lookback)
    if series is None:
        return None
    zone = refitter.settings.timezones.for_service(service)
    save_seasonality(store, service, "", analyze_seasonality(series, timezone=zone))
    return latest_seasonality(store, service)


def resample(series: RegularSeries, step: timedelta) -> tuple[list[datetime], list[float | None]]:
    """Mean of each ``step`` bucket of a one-minute series; ``None`` where a bucket is all gaps."""
    factor = max(1, round(step / series.step_td))
    means = block_means(series.values, factor)
    start = to_datetime(series.start)
    values = [float(v) if np.isfinite(v) else None for v in means]
    return [start + i * step for i in range(len(values))], values


def quantile_keys(quantiles: Sequence[float]) -> list[str]:
    return [f"{q:g}" for q in quantiles]
