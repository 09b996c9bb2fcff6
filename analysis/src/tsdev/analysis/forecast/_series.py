"""Regular time series: the one shape every forecaster and the seasonality analysis accept.

Request rates come out of the store on a fixed grid, but rows for empty minutes may be missing and
exports from users may be unsorted. Everything downstream assumes a complete grid with ``NaN`` for
gaps, so the conversion (and its validation) lives here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import polars as pl

FloatArray: TypeAlias = npt.NDArray[np.float64]
TimeArray: TypeAlias = npt.NDArray[np.datetime64]

DAY = timedelta(days=1)
WEEK = timedelta(weeks=1)


@dataclass(frozen=True)
class RegularSeries:
    """Values on a complete, regular UTC grid; ``NaN`` marks a gap (a missing or outage point)."""

    start: np.datetime64
    step: np.timedelta64
    values: FloatArray

    def __post_init__(self) -> None:
        if self.step <= np.timedelta64(0, "ns"):
            raise ValueError("step must be positive")
        if self.values.ndim != 1:
            raise ValueError("values must be one-dimensional")

    def __len__(self) -> int:
        return int(self.values.shape[0])

    @property
    def step_td(self) -> timedelta:
        return to_timedelta(self.step)

    @property
    def span(self) -> timedelta:
        """Time covered by observed (non-gap) history, from the first to one step past the last point."""
        finite = np.flatnonzero(np.isfinite(self.values))
        if finite.size == 0:
            return timedelta(0)
        return (int(finite[-1]) - int(finite[0]) + 1) * self.step_td

    def timestamps(self, offset: int = 0, count: int | None = None) -> TimeArray:
        """Timestamps of points ``offset .. offset+count`` (may run past the end, for forecasts)."""
        n = len(self) - offset if count is None else count
        return self.start + (np.arange(offset, offset + n) * self.step)

    def points(self, span: timedelta) -> int:
        """Number of grid steps in ``span``, rounded to the nearest step (at least one)."""
        return max(1, round(span / self.step_td))

    def slice(self, begin: int, end: int | None = None) -> RegularSeries:
        stop = len(self) if end is None else end
        return RegularSeries(self.start + begin * self.step, self.step, self.values[begin:stop].copy())

    def tail(self, span: timedelta) -> RegularSeries:
        keep = self.points(span)
        return self if keep >= len(self) else self.slice(len(self) - keep)

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame({"timestamp": self.timestamps(), "value": self.values})


SeriesLike: TypeAlias = RegularSeries | pl.DataFrame


def _to_ns(timestamps: npt.ArrayLike) -> npt.NDArray[np.int64]:
    ts = np.asarray(timestamps)
    if ts.dtype.kind != "M":
        ts = np.asarray(ts, dtype="datetime64[ns]")
    return ts.astype("datetime64[ns]").astype(np.int64)


def from_arrays(
    timestamps: npt.ArrayLike, values: npt.ArrayLike, step: timedelta | None = None
) -> RegularSeries:
    """Place observations on their grid, inferring the step as the most common spacing.

    Rejects timestamps off the grid (an irregular series would silently shift seasonal phases) and
    duplicate timestamps (ambiguous), rather than guessing.
    """
    ns = _to_ns(timestamps)
    vals = np.asarray(values, dtype=np.float64)
    if ns.shape != vals.shape or ns.ndim != 1:
        raise ValueError("timestamps and values must be one-dimensional and of equal length")
    if ns.size < 2:
        raise ValueError("a series needs at least two points")
    order = np.argsort(ns, kind="stable")
    ns, vals = ns[order], vals[order]
    diffs = np.diff(ns)
    if np.any(diffs == 0):
        raise ValueError("duplicate timestamps")
    if step is None:
        uniq, counts = np.unique(diffs, return_counts=True)
        step_ns = int(uniq[np.argmax(counts)])
    else:
        step_ns = int(step / timedelta(microseconds=1)) * 1000
    offsets = ns - ns[0]
    if np.any(offsets % step_ns):
        raise ValueError(f"timestamps are not on a regular grid of {step_ns} ns")
    index = offsets // step_ns
    grid = np.full(int(index[-1]) + 1, np.nan)
    grid[index] = vals
    return RegularSeries(np.datetime64(int(ns[0]), "ns"), np.timedelta64(step_ns, "ns"), grid)


def from_frame(
    frame: pl.DataFrame, time_column: str = "timestamp", value_column: str = "value"
) -> RegularSeries:
    """Convert a ``timestamp,value`` frame; time zones are converted to UTC and then dropped."""
    ts = frame.get_column(time_column)
    if isinstance(ts.dtype, pl.Datetime) and ts.dtype.time_zone is not None:
        ts = ts.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    elif ts.dtype == pl.Utf8:
        ts = ts.str.to_datetime(time_zone="UTC").dt.replace_time_zone(None)
    times = ts.cast(pl.Datetime("ns")).to_numpy()
    return from_arrays(times, frame.get_column(value_column).cast(pl.Float64).to_numpy())


def as_series(y: RegularSeries | pl.DataFrame) -> RegularSeries:
    """Accept either a ready series or a ``timestamp,value`` frame."""
    if isinstance(y, RegularSeries):
        return y
    if isinstance(y, pl.DataFrame):
        return from_frame(y)
    raise TypeError(f"expected RegularSeries or polars DataFrame, got {type(y).__name__}")


def to_timedelta(step: np.timedelta64) -> timedelta:
    return timedelta(microseconds=int(step // np.timedelta64(1, "us")))


def to_datetime(value: np.datetime64) -> datetime:
    """A naive UTC ``datetime`` for a numpy timestamp."""
    return datetime(1970, 1, 1) + timedelta(microseconds=int(value.astype("datetime64[us]").astype(np.int64)))


def fill_gaps(values: FloatArray, period: int) -> FloatArray:
    """Fill gaps with the value one period earlier (or later), then linearly.

    A seasonal fill keeps a missing afternoon from being bridged by a straight line between a morning
    and an evening, which would flatten the daily cycle a model then learns.
    """
    out = values.copy()
    if not np.isfinite(out).any():
        raise ValueError("series has no observed values")
    if period > 0 and period < out.size:
        for _ in range(4):
            missing = np.flatnonzero(~np.isfinite(out))
            if missing.size == 0:
                break
            back = missing - period
            ok = back >= 0
            take = missing[ok][np.isfinite(out[back[ok]])]
            out[take] = out[take - period]
            missing = np.flatnonzero(~np.isfinite(out))
            fwd = missing + period
            ok = fwd < out.size
            take = missing[ok][np.isfinite(out[fwd[ok]])]
            out[take] = out[take + period]
    missing = ~np.isfinite(out)
    if missing.any():
        idx = np.arange(out.size)
        out[missing] = np.interp(idx[missing], idx[~missing], out[~missing])
    return out


def block_means(values: FloatArray, factor: int) -> FloatArray:
    """Means of consecutive blocks of ``factor`` points (``NaN`` only where a block is all gaps)."""
    if factor == 1:
        return values.copy()
    blocks = values[: values.size - values.size % factor].reshape(-1, factor)
    finite = np.isfinite(blocks)
    counts = finite.sum(axis=1)
    sums = np.where(finite, blocks, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
