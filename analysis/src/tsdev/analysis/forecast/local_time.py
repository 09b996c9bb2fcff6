"""Forecasting in a time zone's wall-clock time, for traffic that follows its users' local day.

tsdev stores time in UTC, but people wake, work and fly by their clocks: where daylight saving time is
kept, a service's morning peak moves by an hour in UTC twice a year. A model fitted in UTC then sees
a daily and weekly pattern that jumps, and for a week or more its seasonal profiles (and a weekly
copy) put the peak an hour off. ``LocalTimeForecaster`` moves the history onto the zone's wall clock
before fitting, where the pattern does not move, and brings forecasts back to UTC.

On the wall clock, the hour skipped in spring is a gap (filled like any gap), and of the hour that
repeats in autumn the first pass is kept: a regular grid cannot hold two values for one wall time.
Forecasts are read back for every UTC step, so the repeated hour is forecast from the same wall time
twice and the skipped hour is never asked for. Steps must divide the zone's offset changes (an hour,
in most zones), which every step of an hour or less that divides an hour does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Self

import numpy as np
import numpy.typing as npt
import polars as pl

from tsdev.analysis.forecast._series import (
    FloatArray,
    RegularSeries,
    TimeArray,
    as_series,
    to_datetime,
)
from tsdev.analysis.forecast.auto import AutoForecaster
from tsdev.analysis.forecast.base import Forecaster, forecast_frame
from tsdev.analysis.forecast.events import Event, as_events
from tsdev.analysis.forecast.intervals import DEFAULT_QUANTILES, validate_quantiles
from tsdev.analysis.forecast.result import ForecastResult
from tsdev.core.timezones import known_zone


def wall_times(timestamps: TimeArray, timezone: str) -> TimeArray:
    """The wall-clock times in ``timezone`` (naive) of naive UTC ``timestamps``."""
    utc = pl.Series("t", timestamps.astype("datetime64[us]")).dt.replace_time_zone("UTC")
    wall = utc.dt.convert_time_zone(timezone).dt.replace_time_zone(None)
    return wall.to_numpy().astype("datetime64[ns]")


def to_wall_clock(series: RegularSeries, timezone: str) -> RegularSeries:
    """``series`` (UTC) on the wall clock of ``timezone``: the first pass of a repeated hour is kept, a
    skipped hour is a gap."""
    wall = wall_times(series.timestamps(), timezone)
    first = np.ones(wall.size, dtype=bool)
    first[1:] = wall[1:] > np.maximum.accumulate(wall)[:-1]
    since_start = wall[first] - wall[0]
    if np.any(since_start % series.step):
        raise ValueError(
            f"a step of {series.step_td} does not divide the offset changes of {timezone}; "
            "forecast this series in UTC"
        )
    offsets = since_start // series.step
    values = np.full(int(offsets[-1]) + 1, np.nan)
    values[offsets] = series.values[first]
    return RegularSeries(wall[0], series.step, values)


def _wall_event(event: Event, timezone: str) -> Event:
    start, end = wall_times(np.array([event.start, event.end], dtype="datetime64[us]"), timezone)
    return replace(event, start=to_datetime(start), end=to_datetime(end))


class LocalTimeForecaster(Forecaster):
    """Fits ``forecaster`` (by default the automatic choice) on the wall clock of ``timezone``.

    Takes and returns naive UTC like every forecaster; only the model sees local time.
    """

    name = "local_time"

    def __init__(self, timezone: str, forecaster: AutoForecaster | None = None) -> None:
        self.timezone = timezone
        self.forecaster = forecaster
        self.quantiles = DEFAULT_QUANTILES if forecaster is None else forecaster.quantiles

    def __repr__(self) -> str:
        return f"LocalTimeForecaster({self.timezone!r})"

    @property
    def label(self) -> str:
        return self.inner_.label if hasattr(self, "inner_") else self.name

    def fit(self, y: RegularSeries | pl.DataFrame, X: Sequence[Event] | None = None) -> Self:  # noqa: N803
        known_zone(self.timezone)
        series = as_series(y)
        self.step_ = series.step
        self.next_time_ = series.start + len(series) * series.step
        wall = to_wall_clock(series, self.timezone)
        events = [_wall_event(e, self.timezone) for e in as_events(X)]
        template = self.forecaster or AutoForecaster()
        self.inner_ = template.clone().fit(wall, events)
        self.fitted_at_ = self.inner_.fitted_at_
        return self

    def _append(self, values: FloatArray) -> None:
        """The inner model receives the UTC observations on the wall clock."""
        index = self._wall_index(values.size)
        keep = index >= 0
        keep[1:] &= index[1:] > np.maximum.accumulate(index)[:-1]
        if keep.any():
            local = np.full(int(index[keep].max()) + 1, np.nan)
            local[index[keep]] = values[keep]
            self.inner_.update(local)

    def _wall_index(self, h: int) -> npt.NDArray[np.int64]:
        """For the next ``h`` UTC steps, the inner model's lead (0 = its next point) on the wall clock."""
        utc = self.next_time_ + np.arange(h) * self.step_
        lead = (wall_times(utc, self.timezone) - self.inner_.next_time_) // self.step_
        return np.asarray(lead, dtype=np.int64)

    def predict_mean(self, h: int) -> FloatArray:
        self._check_fitted()
        index = np.maximum(self._wall_index(h), 0)
        return self.inner_.predict_mean(int(index.max()) + 1)[index]

    def predict(self, h: int | timedelta, quantiles: Sequence[float] | None = None) -> pl.DataFrame:
        """Forecast ``h`` UTC steps (or a duration) ahead; see ``Forecaster.predict``."""
        self._check_fitted()
        steps = self._steps(h)
        qs = validate_quantiles(self.quantiles if quantiles is None else quantiles)
        index = np.maximum(self._wall_index(steps), 0)
        local = self.inner_.predict(int(index.max()) + 1, quantiles=qs)
        mean = local["mean"].to_numpy()[index]
        bounds = local.drop("timestamp", "mean").to_numpy()[index]
        return forecast_frame(self.next_time_, self.step_, mean, bounds, qs)

    # ---- what the refit jobs read from a fitted automatic choice ----------------------------------

    @property
    def cold_start_(self) -> bool:
        return bool(self.inner_.cold_start_)

    @property
    def message_(self) -> str:
        return f"{self.inner_.message_} (fitted on {self.timezone} wall-clock time)"

    @property
    def calibrated(self) -> bool:
        return self.inner_.calibrated

    def result(self, forecast: pl.DataFrame | None = None) -> ForecastResult:
        return replace(self.inner_.result(forecast), message=self.message_)
