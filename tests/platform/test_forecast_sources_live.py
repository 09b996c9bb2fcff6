"""Both forecast sources read what the forecasting stage stored: from the store and over the HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.platform.builders import store_forecast
from tests.support.server import InProcessServer
from tsdev.platform.forecast_source import HttpForecastSource, StoreForecastSource


def test_store_and_http_sources_agree_on_the_stored_forecast(server: InProcessServer) -> None:
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    store_forecast(server.store, start)
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
