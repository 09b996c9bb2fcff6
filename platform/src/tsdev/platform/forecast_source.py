"""Where the autoscaler and the deploy pipeline read forecasts from.

Both need only one thing: the forecast quantile of a service's request rate at a future time, with the
time the forecast was fitted so a stale one can be refused. That small interface has two
implementations: :class:`StoreForecastSource` reads the forecasting stage's stored runs (or any
function returning a :class:`~tsdev.analysis.forecast.ForecastResult`), for the embedded server and
tests; :class:`HttpForecastSource` asks tsdev's API, which is how the autoscaler runs in a cluster.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import polars as pl

    from tsdev.analysis.forecast import ForecastResult
    from tsdev.core.store import Store

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ForecastPoint:
    """``value`` (requests per second) is the ``quantile`` forecast for ``at``; ``fitted_at`` dates it."""

    at: datetime
    value: float
    quantile: float
    fitted_at: datetime

    def age(self, now: datetime) -> timedelta:
        return now - self.fitted_at


class ForecastSource(Protocol):
    def quantile_at(self, service: str, at: datetime, quantile: float) -> ForecastPoint | None:
        """The forecast at ``at``, or ``None`` when there is none covering it (never raises on absence)."""


def peak_over(
    source: ForecastSource, service: str, start: datetime, end: datetime, quantile: float, step: timedelta
) -> ForecastPoint | None:
    """The highest point of the forecast over ``[start, end]`` sampled every ``step``: what the next lead
    window needs, since pods started now must also carry its peak."""
    best: ForecastPoint | None = None
    at = start
    while at <= end:
        point = source.quantile_at(service, at, quantile)
        if point is not None and (best is None or point.value > best.value):
            best = point
        at += step
    return best


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def point_from_frame(
    frame: pl.DataFrame, fitted_at: datetime, at: datetime, quantile: float, per_second: float = 1 / 60
) -> ForecastPoint | None:
    """The forecast at ``at`` from a frame (``timestamp`` plus ``q<level>`` columns), converted to
    requests per second by ``per_second`` (forecasts are in requests per minute).

    Between two points the value is interpolated linearly: with coarse steps (an hour) the value of the
    step's start would lag a ramp by up to a whole step, which is exactly when the floor matters.

    The nearest quantile column at or above the one asked is used, so a forecast without exactly that
    quantile errs towards more capacity."""
    if frame.height == 0:
        return None
    columns = sorted((float(c[1:]), c) for c in frame.columns if c.startswith("q") and _is_number(c[1:]))
    chosen = next((c for q, c in columns if q >= quantile - 1e-9), columns[-1][1] if columns else "mean")
    times = [_utc(t) for t in frame["timestamp"].to_list()]
    at = _utc(at)
    index = max((i for i, t in enumerate(times) if t <= at), default=None)
    if index is None:
        return None
    if index == len(times) - 1 and len(times) > 1 and at - times[-1] > times[-1] - times[-2]:
        return None  # past the forecast's horizon
    value = float(frame[chosen][index])
    if index + 1 < len(times):
        following = float(frame[chosen][index + 1])
        if not math.isnan(following):
            share = (at - times[index]) / (times[index + 1] - times[index])
            value += share * (following - value)
    if math.isnan(value):
        return None
    return ForecastPoint(
        at=at, value=max(0.0, value * per_second), quantile=quantile, fitted_at=_utc(fitted_at)
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class StoreForecastSource:
    """Forecasts from the forecasting stage: ``load(service)`` returns the latest run or ``None``.

    The default loader reads the newest run of the service from the store's forecast table; a test or
    an embedded job can pass any function returning a ``ForecastResult``, such as one calling
    ``forecast_series`` directly."""

    def __init__(self, load: Callable[[str], ForecastResult | None]) -> None:
        self._load = load

    @classmethod
    def from_store(cls, store: Store) -> StoreForecastSource:
        return cls(lambda service: load_latest_forecast(store, service))

    def quantile_at(self, service: str, at: datetime, quantile: float) -> ForecastPoint | None:
        try:
            result = self._load(service)
        except Exception:
            logger.warning("reading the forecast of %s failed", service, exc_info=True)
            return None
        if result is None or result.forecast is None:
            return None
        return point_from_frame(result.forecast, result.fitted_at, at, quantile)


def load_latest_forecast(store: Store, service: str) -> ForecastResult | None:
    """The newest forecast run the forecasting stage stored for ``service`` (whole service), at its
    native step and with its whole quantile grid, as a ``ForecastResult``."""
    from tsdev.analysis.forecast import ForecastResult
    from tsdev.analysis.forecast.storage import latest_forecast

    stored = latest_forecast(store, service)
    if stored is None:
        return None
    return ForecastResult(
        model=stored.model,
        fitted_at=_utc(stored.fitted_at),
        step=stored.step,
        history=stored.history,
        cold_start=stored.cold_start,
        calibrated=stored.calibrated,
        message=stored.message,
        forecast=stored.points(stored.horizon, stored.step, stored.quantiles),
    )


class HttpForecastSource:
    """Forecasts from tsdev's API (``GET /api/v1/forecast/{service}``), cached per service for
    ``cache_seconds`` so one control-loop tick costs one request per app, not one per sampled time."""

    def __init__(
        self, server: str, token: str | None = None, cache_seconds: float = 20.0, horizon: str = "6h"
    ) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=server.rstrip("/"), headers=headers, timeout=10.0)
        self._cache: dict[tuple[str, float], tuple[float, ForecastResult | None]] = {}
        self._cache_seconds = cache_seconds
        self.horizon = horizon

    def close(self) -> None:
        self._http.close()

    def _fetch(self, service: str, quantile: float) -> ForecastResult | None:
        import time

        cached = self._cache.get((service, quantile))
        if cached and time.monotonic() - cached[0] < self._cache_seconds:
            return cached[1]
        result = self._request(service, quantile)
        self._cache[(service, quantile)] = (time.monotonic(), result)
        return result

    def _request(self, service: str, quantile: float) -> ForecastResult | None:
        import httpx

        params = {"horizon": self.horizon, "step": "1m", "quantiles": f"{quantile:g}"}
        try:
            response = self._http.get(f"/api/v1/forecast/{service}", params=params)
        except httpx.TransportError as exc:
            logger.warning("cannot reach tsdev for the forecast of %s: %s", service, exc)
            return None
        if response.status_code != 200:
            if response.status_code != 404:
                logger.warning("forecast of %s: the server answered %s", service, response.status_code)
            return None
        return result_from_json(response.json())

    def quantile_at(self, service: str, at: datetime, quantile: float) -> ForecastPoint | None:
        result = self._fetch(service, quantile)
        if result is None or result.forecast is None:
            return None
        return point_from_frame(result.forecast, result.fitted_at, at, quantile)


def _parse_time(value: Any) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return _utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))


def result_from_json(body: dict[str, Any]) -> ForecastResult | None:
    """A ``ForecastResult`` from the forecast endpoint's answer.

    Points are ``{"timestamp": ..., "mean": ..., "quantiles": {"0.9": ...}}`` in requests per minute
    (the API's ``unit``); anything else reads as no forecast."""
    import polars as pl

    from tsdev.analysis.forecast import ForecastResult, quantile_column

    points = body.get("points") or body.get("forecast") or []
    fitted = body.get("fitted_at")
    if not points or fitted is None:
        return None
    columns: dict[str, list[Any]] = {"timestamp": []}
    for point in points:
        columns["timestamp"].append(_parse_time(point.get("timestamp") or point.get("time")))
        flat = {k: v for k, v in point.items() if k not in {"timestamp", "time", "quantiles"}}
        for q, v in (point.get("quantiles") or {}).items():
            flat[quantile_column(float(q))] = v
        for key, value in flat.items():
            columns.setdefault(key, []).append(None if value is None else float(value))
    if any(len(v) != len(points) for v in columns.values()):
        return None
    step = timedelta(seconds=float(body.get("step_seconds", 0)) or 60)
    return ForecastResult(
        model=str(body.get("model", "")),
        fitted_at=_parse_time(fitted),
        step=step,
        history=timedelta(0),
        cold_start=bool(body.get("cold_start", False)),
        calibrated=bool(body.get("calibrated", True)),
        message=str(body.get("message", "")),
        forecast=pl.DataFrame(columns),
    )
