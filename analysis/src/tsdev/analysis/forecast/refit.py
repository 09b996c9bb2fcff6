"""Keeping forecasts and seasonality current for every service with traffic.

A full fit (the backtest that chooses models, then the fit itself) costs seconds to tens of seconds
per service, while a new minute of traffic changes little; so fitted models are kept between runs
and new minutes are fed to them with ``update`` (state moves, parameters stay), which takes
milliseconds. A full refit happens when the kept model is older than ``full_refit_every``, when the
declared events of the service changed (their windows are divided out of the history at fit time),
when the model was a cold-start one (history has grown since), or when the process has no kept model
(a restart, or a Celery worker that did not fit this service before).

``refit_forecasts`` is the plain function jobs call; ``ForecastRefitter`` holds the kept models for
an in-process scheduler or the API, which share one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tsdev.analysis.forecast._series import RegularSeries, to_datetime
from tsdev.analysis.forecast.auto import AutoForecaster
from tsdev.analysis.forecast.events import Event
from tsdev.analysis.forecast.local_time import LocalTimeForecaster
from tsdev.analysis.forecast.seasonality_findings import emit_seasonality_finding
from tsdev.analysis.forecast.series_sql import DEFAULT_LOOKBACK
from tsdev.analysis.forecast.source import RateSource
from tsdev.analysis.forecast.storage import (
    STORED_QUANTILES,
    events_for,
    save_forecast,
    save_seasonality,
)
from tsdev.analysis.seasonality import analyze_seasonality
from tsdev.core.settings import Settings
from tsdev.core.store import Store
from tsdev.core.timezones import UTC_ZONE, ServiceZones

logger = logging.getLogger(__name__)

ServingForecaster = AutoForecaster | LocalTimeForecaster
"""What a refit fits: the automatic choice, in UTC or on a configured time zone's wall clock."""


@dataclass(frozen=True)
class RefitSettings:
    """What a refit run covers and how often models are rebuilt from scratch."""

    min_requests: int = 100
    """Server requests in the lookback below which a service gets no forecast (nothing to forecast)."""
    lookback: timedelta = DEFAULT_LOOKBACK
    """History read for a full fit."""
    horizon: timedelta = timedelta(days=3)
    """How far ahead forecasts are stored; the API serves up to this horizon."""
    full_refit_every: timedelta = timedelta(hours=24)
    """Age after which a kept model is refitted rather than updated."""
    forecaster: Callable[[], AutoForecaster] = field(default=AutoForecaster)
    """Builds the forecaster of a full fit (tests and small deployments pass a cheaper one)."""
    timezones: ServiceZones = field(default_factory=ServiceZones)
    """Whose wall clock each service's traffic follows: models are fitted, and peak windows told, on it."""
    source: RateSource = field(default_factory=RateSource)
    """Where request rates are read: server spans, or the configured counter metric."""

    @classmethod
    def from_settings(cls, settings: Settings) -> RefitSettings:
        """The defaults, reading request rates from the source ``settings`` configure, fitted on the
        configured time zone's wall clock."""
        return cls(timezones=settings.forecast_timezones, source=RateSource.from_settings(settings))

    def build(self, service: str) -> ServingForecaster:
        """The unfitted forecaster of a full fit of ``service``."""
        auto = self.forecaster()
        zone = self.timezones.for_service(service)
        return auto if zone == UTC_ZONE else LocalTimeForecaster(zone, auto)


@dataclass(frozen=True)
class RefitOutcome:
    """What one service's refit did, for job logs and the API."""

    service: str
    operation: str
    model: str
    cold_start: bool
    incremental: bool
    seconds: float
    message: str


@dataclass
class _Kept:
    model: ServingForecaster
    history_end: datetime
    events: tuple[Event, ...]


def _naive_now(now: datetime | None) -> datetime:
    moment = now or datetime.now(UTC)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _end_of(series: RegularSeries) -> datetime:
    return to_datetime(series.start + len(series) * series.step)


class ForecastRefitter:
    """Refits forecasts into the store, keeping fitted models between runs for incremental updates."""

    def __init__(self, store: Store, settings: RefitSettings | None = None) -> None:
        self.store = store
        self.settings = settings or RefitSettings()
        self._kept: dict[tuple[str, str], _Kept] = {}
        self._lock = threading.Lock()

    def run(self, now: datetime | None = None) -> list[RefitOutcome]:
        """Refit every service with at least ``min_requests`` requests in the lookback."""
        outcomes = []
        busy = self.settings.source.services(
            self.store, min_requests=self.settings.min_requests, lookback=self.settings.lookback, now=now
        )
        for summary in busy:
            try:
                outcome = self.refit(summary.service, now=now)
            except Exception:
                # One service's failure (a degenerate series, say) must not stop the others.
                logger.exception("forecast refit of %s failed", summary.service)
                continue
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    def run_job(self, store: Store) -> list[RefitOutcome]:
        """The scheduler's job signature (``job(store)``); the refitter's own store is used."""
        return self.run()

    def refit(
        self, service: str, operation: str = "", *, now: datetime | None = None, full: bool = False
    ) -> RefitOutcome | None:
        """Bring the stored forecast of ``service`` (or one operation) up to the last complete minute.

        ``None`` when it has no request in the lookback.
        """
        with self._lock:
            started = time.perf_counter()
            key = (service, operation)
            events = tuple(events_for(self.store, service))
            kept = self._kept.get(key)
            moment = _naive_now(now)
            if (
                not full
                and kept is not None
                and kept.events == events
                and not kept.model.cold_start_
                and moment - kept.model.fitted_at_.replace(tzinfo=None) < self.settings.full_refit_every
            ):
                return self._update(kept, service, operation, moment, started)
            series = self.settings.source.series(
                self.store, service, operation or None, lookback=self.settings.lookback, now=moment
            )
            if series is None:
                self._kept.pop(key, None)
                return None
            model = self.settings.build(service).fit(series, list(events))
            history_end = _end_of(series)
            self._store(model, service, operation, history_end)
            self._kept[key] = _Kept(model, history_end, events)
            if not model.cold_start_:
                zone = self.settings.timezones.for_service(service)
                seasonality = analyze_seasonality(series, timezone=zone)
                save_seasonality(self.store, service, operation, seasonality)
                if not operation:
                    start_ns = int(series.start.astype("datetime64[ns]").astype("int64"))
                    end_ns = int(
                        (series.start + len(series) * series.step).astype("datetime64[ns]").astype("int64")
                    )
                    emit_seasonality_finding(self.store, service, seasonality, start_ns, end_ns)
            return self._outcome(model, service, operation, False, started)

    def _update(
        self, kept: _Kept, service: str, operation: str, moment: datetime, started: float
    ) -> RefitOutcome:
        new = self.settings.source.series(
            self.store,
            service,
            operation or None,
            since=kept.history_end,
            lookback=self.settings.lookback,
            now=moment,
        )
        if new is not None and len(new):
            kept.model.update(new)
            kept.history_end = _end_of(new)
        self._store(kept.model, service, operation, kept.history_end)
        return self._outcome(kept.model, service, operation, True, started)

    def _store(self, model: ServingForecaster, service: str, operation: str, history_end: datetime) -> None:
        frame = model.predict(self.settings.horizon, quantiles=STORED_QUANTILES)
        result = model.result(frame)
        save_forecast(self.store, service, operation, result, history_end)

    @staticmethod
    def _outcome(
        model: ServingForecaster, service: str, operation: str, incremental: bool, started: float
    ) -> RefitOutcome:
        return RefitOutcome(
            service=service,
            operation=operation,
            model=model.label,
            cold_start=bool(model.cold_start_),
            incremental=incremental,
            seconds=time.perf_counter() - started,
            message=model.message_,
        )


def refit_forecasts(
    store: Store,
    *,
    settings: RefitSettings | None = None,
    now: datetime | None = None,
    refitter: ForecastRefitter | None = None,
) -> list[RefitOutcome]:
    """Refit forecasts (and seasonality) of every service with enough traffic: the job's body.

    Without a ``refitter`` (a Celery task, say) every service is fitted in full; pass a long-lived
    one to update kept models incrementally.
    """
    return (refitter or ForecastRefitter(store, settings)).run(now)
