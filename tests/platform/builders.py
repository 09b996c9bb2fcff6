"""Builders of the platform tests: specs and forecast sources with known values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from tsdev.analysis.forecast import ForecastResult, quantile_column
from tsdev.analysis.forecast.storage import STORED_QUANTILES, save_forecast
from tsdev.core.store import Store
from tsdev.platform.forecast_source import StoreForecastSource
from tsdev.platform.spec import AppSpec, parse_spec


def app_spec(namespace: str, name: str = "web", image: str = "example/web:1", **scaling: Any) -> AppSpec:
    return parse_spec(
        {
            "name": name,
            "image": image,
            "namespace": namespace,
            "pre_stop_sleep_seconds": 0,
            "shutdown_grace_seconds": 1,
            "scaling": {
                "min_replicas": 1,
                "max_replicas": 12,
                "target_rps_per_replica": 10,
                "scale_up_max_pods": 20,
                "quantile": 0.9,  # the quantile constant_forecast sets to its rps
                **scaling,
            },
        }
    )


def constant_forecast(
    rps: float, fitted_at: datetime | None = None, service: str = "web"
) -> StoreForecastSource:
    """A source whose q0.9 is ``rps`` (and median half of it) from 10 minutes ago to 2 hours ahead."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    fitted = fitted_at or now - timedelta(minutes=1)
    times = [now - timedelta(minutes=10) + timedelta(minutes=i) for i in range(130)]
    per_minute = rps * 60
    frame = pl.DataFrame(
        {
            "timestamp": times,
            "mean": [per_minute / 2] * len(times),
            "q0.5": [per_minute / 2] * len(times),
            "q0.9": [per_minute] * len(times),
            "q0.95": [per_minute * 1.1] * len(times),
        }
    )
    result = ForecastResult(
        model="test", fitted_at=fitted, step=timedelta(minutes=1), history=timedelta(days=7),
        cold_start=False, calibrated=True, message="", forecast=frame,
    )  # fmt: skip
    return StoreForecastSource(lambda name: result if name == service else None)


def store_forecast(store: Store, start: datetime, service: str = "web") -> None:
    """A stored forecast run of ``service`` from ``start``, 3 h at 1 min, q = 600 x q requests/min."""
    minutes = 180
    columns: dict[str, object] = {
        "timestamp": [start + timedelta(minutes=i) for i in range(minutes)],
        "mean": [300.0] * minutes,
    }
    for q in STORED_QUANTILES:
        columns[quantile_column(q)] = [600.0 * q] * minutes  # requests per minute
    result = ForecastResult(
        model="test", fitted_at=start, step=timedelta(minutes=1), history=timedelta(days=3),
        cold_start=False, calibrated=True, message="", forecast=pl.DataFrame(columns),
    )  # fmt: skip
    save_forecast(store, service, "", result, history_end=start)
