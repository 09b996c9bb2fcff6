"""Reading and writing forecasts, declared events and seasonality results (tables of migration 4).

A forecast is stored at its native step (one minute for request rates) with a fixed grid of
quantiles, ``STORED_QUANTILES``, so the API can answer any step that is a multiple of it and any
quantile inside the grid without refitting: coarser steps average the points (a mean rate per minute
over the bucket, so values read the same at every step), and quantiles between grid points are
interpolated linearly. Averaging quantiles of single minutes gives an interval at least as wide as
the interval of the bucket's mean, so a coarser step never makes a forecast look more certain.
"""

# ruff: noqa: S608  # SQL is assembled from fixed fragments; every caller value is a bound parameter

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pyarrow as pa

from tsdev.analysis.forecast._series import FloatArray
from tsdev.analysis.forecast.events import Event
from tsdev.analysis.forecast.intervals import quantile_column, validate_quantiles
from tsdev.analysis.forecast.result import ForecastResult
from tsdev.analysis.seasonality import SeasonalityResult
from tsdev.core.store import Store
from tsdev.core.store.ddl_forecasts import FORECAST_EVENTS, FORECASTS, SEASONALITY

STORED_QUANTILES: tuple[float, ...] = (0.01, 0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 0.8, 0.9, 0.95, 0.99)
"""The quantile grid every stored forecast carries; requests are answered from it."""


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


@dataclass(frozen=True)
class StoredForecast:
    """The latest forecast run of a service (or operation), as stored."""

    service: str
    operation: str
    fitted_at: datetime
    model: str
    cold_start: bool
    calibrated: bool
    message: str
    history: timedelta
    history_end: datetime
    start: datetime
    step: timedelta
    quantiles: tuple[float, ...]
    mean: FloatArray
    quantile_values: FloatArray
    """Shape ``(len(quantiles), len(mean))``."""
    scores: dict[str, dict[str, float]]
    coverage: dict[str, float]

    @property
    def horizon(self) -> timedelta:
        return self.step * int(self.mean.size)

    def points(self, horizon: timedelta, step: timedelta, quantiles: Sequence[float]) -> pl.DataFrame:
        """``timestamp``, ``mean`` and ``q<level>`` columns at ``step`` for ``horizon`` ahead.

        ``step`` must be a multiple of the stored step, ``horizon`` at most the stored one and the
        quantiles inside the stored grid; callers validate and name the bad parameter.
        """
        factor = round(step / self.step)
        count = int(horizon // step)
        n = count * factor
        qs = validate_quantiles(quantiles)
        grid = np.asarray(self.quantiles)
        columns: dict[str, object] = {
            "timestamp": [self.start + i * step for i in range(count)],
            "mean": _bucket_means(self.mean[:n], factor),
        }
        for q in qs:
            upper = int(np.searchsorted(grid, q))
            if upper < grid.size and np.isclose(grid[upper], q):
                row = self.quantile_values[upper, :n]
            else:
                low = max(upper - 1, 0)
                upper = min(upper, grid.size - 1)
                weight = 0.0 if upper == low else (q - grid[low]) / (grid[upper] - grid[low])
                row = (1 - weight) * self.quantile_values[low, :n] + weight * self.quantile_values[upper, :n]
            columns[quantile_column(q)] = _bucket_means(row, factor)
        return pl.DataFrame(columns)


def _bucket_means(values: FloatArray, factor: int) -> list[float]:
    if factor <= 1:
        return [float(v) for v in values]
    return [float(v) for v in values[: values.size - values.size % factor].reshape(-1, factor).mean(axis=1)]


def save_forecast(
    store: Store, service: str, operation: str, result: ForecastResult, history_end: datetime
) -> None:
    """Append one forecast run; ``result.forecast`` must carry ``STORED_QUANTILES``."""
    frame = result.forecast
    if frame is None or frame.height == 0:
        raise ValueError("a forecast result without points cannot be stored")
    start = frame["timestamp"][0]
    quantile_rows = [frame[quantile_column(q)].to_list() for q in STORED_QUANTILES]
    table = pa.table(
        {
            "ServiceName": [service],
            "Operation": [operation],
            "FittedAt": pa.array([_naive(result.fitted_at)], pa.timestamp("ms")),
            "Model": [result.model],
            "ColdStart": [result.cold_start],
            "Calibrated": [result.calibrated],
            "Message": [result.message],
            "HistorySeconds": [result.history.total_seconds()],
            "HistoryEnd": pa.array([_naive(history_end)], pa.timestamp("s")),
            "Start": pa.array([start], pa.timestamp("s")),
            "StepSeconds": pa.array([round(result.step.total_seconds())], pa.uint32()),
            "Quantiles": [list(STORED_QUANTILES)],
            "Mean": [frame["mean"].to_list()],
            "QuantileValues": [quantile_rows],
            "Scores": [json.dumps(result.scores, sort_keys=True)],
            "Coverage": [json.dumps(result.coverage, sort_keys=True)],
        }
    )
    store.insert_arrow(FORECASTS, table)


def latest_forecast(store: Store, service: str, operation: str = "") -> StoredForecast | None:
    rows = store.query_rows(
        f"""SELECT ServiceName, Operation, FittedAt, Model, ColdStart, Calibrated, Message,
                   HistorySeconds, HistoryEnd, Start, StepSeconds, Quantiles, Mean, QuantileValues,
                   Scores, Coverage
            FROM {store.table(FORECASTS)}
            WHERE ServiceName = {{service:String}} AND Operation = {{operation:String}}
            ORDER BY FittedAt DESC LIMIT 1""",
        {"service": service, "operation": operation},
    )
    if not rows:
        return None
    (name, op, fitted, model, cold, calibrated, message, history_s, history_end, start, step_s, qs, mean,
     qvalues, scores, coverage) = rows[0]  # fmt: skip
    return StoredForecast(
        service=name,
        operation=op,
        fitted_at=_naive(fitted),
        model=model,
        cold_start=bool(cold),
        calibrated=bool(calibrated),
        message=message,
        history=timedelta(seconds=float(history_s)),
        history_end=_naive(history_end),
        start=_naive(start),
        step=timedelta(seconds=int(step_s)),
        quantiles=tuple(float(q) for q in qs),
        mean=np.asarray(mean, dtype=np.float64),
        quantile_values=np.asarray(qvalues, dtype=np.float64),
        scores=json.loads(scores),
        coverage=json.loads(coverage),
    )


# -- events ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredEvent:
    id: str
    event: Event
    created_at: datetime


def add_event(store: Store, event: Event) -> StoredEvent:
    """Record a declared event; ``event.service`` ``None`` means every service."""
    event_id = str(uuid.uuid4())
    created = datetime.now(UTC).replace(tzinfo=None)
    store.insert_arrow(
        FORECAST_EVENTS,
        pa.table(
            {
                "EventId": [event_id],
                "Name": [event.name],
                "ServiceName": [event.service or ""],
                "Start": pa.array([_naive(event.start)], pa.timestamp("s")),
                "End": pa.array([_naive(event.end)], pa.timestamp("s")),
                "Multiplier": [float(event.multiplier)],
                "CreatedAt": pa.array([created], pa.timestamp("ms")),
            }
        ),
    )
    return StoredEvent(event_id, event, created)


def list_events(store: Store, service: str | None = None) -> list[StoredEvent]:
    """Declared events, oldest first; with ``service``, those for it and those for every service."""
    where = "WHERE ServiceName IN ('', {service:String})" if service is not None else ""
    rows = store.query_rows(
        f"""SELECT toString(EventId), Name, ServiceName, Start, End, Multiplier, CreatedAt
            FROM {store.table(FORECAST_EVENTS)} FINAL {where}
            ORDER BY Start, EventId""",
        {"service": service} if service is not None else None,
    )
    return [
        StoredEvent(
            event_id,
            Event(name, _naive(start), _naive(end), float(multiplier), svc or None),
            _naive(created),
        )
        for event_id, name, svc, start, end, multiplier, created in rows
    ]


def events_for(store: Store, service: str) -> list[Event]:
    return [stored.event for stored in list_events(store, service)]


# -- seasonality ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredSeasonality:
    service: str
    operation: str
    analyzed_at: datetime
    fingerprint: str
    summary: str
    significant: tuple[str, ...]
    evidence: dict[str, object]


def save_seasonality(store: Store, service: str, operation: str, result: SeasonalityResult) -> None:
    fields = result.finding_fields(service)
    store.insert_arrow(
        SEASONALITY,
        pa.table(
            {
                "ServiceName": [service],
                "Operation": [operation],
                "AnalyzedAt": pa.array([datetime.now(UTC).replace(tzinfo=None)], pa.timestamp("ms")),
                "Fingerprint": [str(fields["fingerprint"])],
                "Summary": [result.summary()],
                "Significant": [[p.name for p in result.significant]],
                "Evidence": [json.dumps(result.evidence(), sort_keys=True)],
            }
        ),
    )


def latest_seasonality(store: Store, service: str, operation: str = "") -> StoredSeasonality | None:
    rows = store.query_rows(
        f"""SELECT ServiceName, Operation, AnalyzedAt, Fingerprint, Summary, Significant, Evidence
            FROM {store.table(SEASONALITY)}
            WHERE ServiceName = {{service:String}} AND Operation = {{operation:String}}
            ORDER BY AnalyzedAt DESC LIMIT 1""",
        {"service": service, "operation": operation},
    )
    if not rows:
        return None
    name, op, analyzed, fp, summary, significant, evidence = rows[0]
    return StoredSeasonality(
        name, op, _naive(analyzed), fp, summary, tuple(significant), json.loads(evidence)
    )
