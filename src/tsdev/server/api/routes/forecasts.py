"""``/api/v1/forecast``, ``/api/v1/seasonality`` and ``/api/v1/events``: request-rate forecasts.

Forecasts are read as the refit job stored them, at one-minute step with a fixed quantile grid, and
resampled to the requested step and quantiles; services the job has not reached, or whose events
changed, are fitted on demand (see ``tsdev.analysis.forecast.serving``).
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status

from tsdev.analysis.forecast import serving
from tsdev.analysis.forecast.events import Event
from tsdev.analysis.forecast.refit import ForecastRefitter, RefitSettings
from tsdev.analysis.forecast.series_sql import DEFAULT_LOOKBACK
from tsdev.analysis.forecast.source import RateSource
from tsdev.analysis.forecast.storage import add_event, list_events
from tsdev.server.api.deps import StoreDep
from tsdev.server.api.schemas.common import ERROR_RESPONSES, ErrorResponse
from tsdev.server.api.schemas.forecasts import (
    ALL_SERVICES,
    EventIn,
    EventList,
    EventOut,
    Forecast,
    ForecastPoint,
    Seasonality,
    Series,
    SeriesPoint,
    rfc3339,
)

router = APIRouter(tags=["forecasts"], responses=ERROR_RESPONSES)
NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorResponse, "description": "No request of this service in the lookback"}
}
_refitter_lock = threading.Lock()


def refitter_of(request: Request, store: StoreDep) -> ForecastRefitter:
    """The server's refitter, shared with the forecast job so kept models serve both."""
    runtime = request.app.state.runtime
    refitter = getattr(runtime, "forecast_refitter", None)
    if isinstance(refitter, ForecastRefitter):
        return refitter
    state = request.app.state  # an app assembled without a runtime refitter (never in tsdev serve)
    with _refitter_lock:
        if getattr(state, "forecast_refitter", None) is None:
            settings = getattr(runtime, "settings", None)
            refit = RefitSettings.from_settings(settings) if settings is not None else RefitSettings()
            state.forecast_refitter = ForecastRefitter(store, refit)
    fallback: ForecastRefitter = state.forecast_refitter
    return fallback


def _unknown(service: str, source: RateSource) -> HTTPException:
    return HTTPException(
        status.HTTP_404_NOT_FOUND,
        f"no requests of service {service!r} in the last weeks ({source.describe()}); nothing to forecast",
    )


@router.get(
    "/forecast/{service}", summary="Forecast of a service's request rate with quantiles", responses=NOT_FOUND
)
def get_forecast(
    request: Request,
    store: StoreDep,
    service: str,
    horizon: Annotated[str, Query(description="How far ahead: 48h, 2d, 90m")] = "48h",
    step: Annotated[str, Query(description="Spacing of the points, a multiple of 1m: 5m, 1h")] = "5m",
    quantiles: Annotated[
        str, Query(description="Comma-separated quantiles within 0.01-0.99")
    ] = "0.1,0.5,0.9,0.95",
    operation: Annotated[str | None, Query(description="Forecast one operation (span name) instead")] = None,
) -> Forecast:
    refitter = refitter_of(request, store)
    qs = serving.parse_quantiles(quantiles)
    parsed_horizon = serving.parse_horizon(horizon, refitter.settings.horizon)
    stored = serving.current_forecast(refitter, service, operation or "")
    if stored is None:
        raise _unknown(service if operation is None else f"{service}/{operation}", refitter.settings.source)
    parsed_step = serving.parse_step(step, stored.step, parsed_horizon)
    frame = stored.points(min(parsed_horizon, stored.horizon), parsed_step, qs)
    keys = serving.quantile_keys(qs)
    columns = [frame[c].to_list() for c in frame.columns[2:]]
    points = [
        ForecastPoint(
            timestamp=rfc3339(ts),
            mean=mean,
            quantiles={k: col[i] for k, col in zip(keys, columns, strict=True)},
        )
        for i, (ts, mean) in enumerate(
            zip(frame["timestamp"].to_list(), frame["mean"].to_list(), strict=True)
        )
    ]
    return Forecast(
        service=service,
        operation=operation,
        model=stored.model,
        fitted_at=rfc3339(stored.fitted_at),
        history_end=rfc3339(stored.history_end),
        history_hours=round(stored.history.total_seconds() / 3600, 3),
        cold_start=stored.cold_start,
        calibrated=stored.calibrated,
        message=stored.message,
        step_seconds=int(parsed_step.total_seconds()),
        horizon_seconds=int(parsed_horizon.total_seconds()),
        quantiles=list(qs),
        scores=stored.scores,
        coverage=stored.coverage,
        points=points,
    )


@router.get(
    "/series/{service}", summary="Observed request rate of a service, gaps filled", responses=NOT_FOUND
)
def get_series(
    request: Request,
    store: StoreDep,
    service: str,
    since: Annotated[str, Query(description="How far back: 3d, 12h (at most 8 weeks)")] = "3d",
    step: Annotated[str, Query(description="Spacing of the points, a multiple of 1m")] = "1m",
    operation: Annotated[str | None, Query(description="One operation (span name) instead")] = None,
) -> Series:
    lookback = serving.parse_horizon(since, DEFAULT_LOOKBACK, parameter="since")
    parsed_step = serving.parse_step(step, timedelta(minutes=1), lookback)
    source = refitter_of(request, store).settings.source
    observed = source.series(store, service, operation, lookback=lookback)
    if observed is None:
        raise _unknown(service, source)
    times, values = serving.resample(observed, parsed_step)
    return Series(
        service=service,
        operation=operation,
        step_seconds=int(parsed_step.total_seconds()),
        points=[SeriesPoint(timestamp=rfc3339(t), value=v) for t, v in zip(times, values, strict=True)],
    )


@router.get(
    "/seasonality/{service}", summary="Daily, weekly and other cycles with peak windows", responses=NOT_FOUND
)
def get_seasonality(request: Request, store: StoreDep, service: str) -> Seasonality:
    refitter = refitter_of(request, store)
    stored = serving.current_seasonality(refitter, service)
    if stored is None:
        raise _unknown(service, refitter.settings.source)
    return Seasonality.of(stored)


@router.post("/events", summary="Declare an event that changes traffic by a known factor", status_code=201)
def post_event(store: StoreDep, body: EventIn) -> EventOut:
    event = Event(body.name, body.start, body.end, body.multiplier, body.service)
    return EventOut.of(add_event(store, event))


@router.get("/events", summary="Declared events, oldest first")
def get_events(
    store: StoreDep,
    service: Annotated[
        str | None, Query(description=f"Only events for this service (and those for {ALL_SERVICES})")
    ] = None,
) -> EventList:
    return EventList(events=[EventOut.of(e) for e in list_events(store, service)])
