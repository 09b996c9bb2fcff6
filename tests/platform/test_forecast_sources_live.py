"""Both forecast sources read what the forecasting stage stored: from the store and over the HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from tests.support.server import InProcessServer
from tsdev.analysis.forecast import ForecastResult, quantile_column
from tsdev.analysis.forecast.storage import STORED_QUANTILES, save_forecast
from tsdev.platform.forecast_source import HttpForecastSource, StoreForecastSource


def _store_forecast(server: InProcessServer, start: datetime) -> None:
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
    save_forecast(server.store, "web", "", result, history_end=start)


def test_store_and_http_sources_agree_on_the_stored_forecast(server: InProcessServer) -> None:
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    _store_forecast(server, start)
    at = start + timedelta(minutes=30)
    from_store = StoreForecastSource.from_store(server.store).quantile_at("web", at, 0.9)
    http = HttpForecastSource(server.api_url)
    try:
        over_http = http.quantile_at("web", at, 0.9)
        assert http.quantile_at("nobody", at, 0.9) is None
    finally:
        http.close()
    assert from_store is not None and over_http is not None
    assert abs(from_store.value - 9.0) < 1e-6  # 540 requests/min at q0.9
    assert abs(over_http.value - from_store.value) < 1e-6
    assert from_store.fitted_at == over_http.fitted_at == start
