"""Request rates from a configured counter metric, sent through the OTLP/HTTP receiver.

Two services count their requests in ``http.server.requests``: ``checkout`` cumulatively, in two
streams (route ``/a`` at 10 per minute, whose process restarts with a new start time, and route
``/b`` at 5 per minute without start times, whose value drops back on a restart), exporting every
minute at :30; ``billing`` as deltas of 4 every 30 seconds (8 per minute). Nothing at all arrives
for minutes 80-99, an outage of the path to tsdev.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pytest

from tests.support.server import InProcessServer
from tsdev.analysis.forecast import AutoForecaster, SeasonalNaiveForecaster
from tsdev.analysis.forecast.counter_sql import CounterMetric, counter_rate, services_with_counter_traffic
from tsdev.analysis.forecast.refit import ForecastRefitter, RefitSettings
from tsdev.analysis.forecast.source import RateSource
from tsdev.analysis.forecast.storage import latest_forecast
from tsdev.core.settings import Settings
from tsdev.core.store import Store

METRIC = "http.server.requests"
BASE = datetime(2025, 3, 10, 0, 0)  # naive UTC
NOW = BASE + timedelta(minutes=121, seconds=5)
MINUTES = 120
OUTAGE = range(80, 100)
S = 1_000_000_000


def _attributes(values: dict[str, str]) -> list[dict[str, Any]]:
    return [{"key": key, "value": {"stringValue": value}} for key, value in values.items()]


def _ns(base: datetime, seconds: float) -> str:
    return str(int(base.replace(tzinfo=UTC).timestamp() * S + seconds * S))


def _resource(service: str, metrics: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resource": {"attributes": _attributes({"service.name": service})},
        "scopeMetrics": [{"scope": {"name": "app"}, "metrics": metrics}],
    }


def counter_bodies(base: datetime) -> list[dict[str, Any]]:
    """OTLP/JSON bodies with the history described above, ``base`` being minute 0."""
    route_a, route_b, deltas = [], [], []
    for m in range(MINUTES):
        if m in OUTAGE:
            continue
        t = m * 60 + 30
        # /a: restarted at 59:30 (a new start time); its count starts again from zero
        start_a, since_a = (0, m + 0.5) if m < 60 else (59 * 60 + 30, m - 59)
        route_a.append(
            {
                "startTimeUnixNano": _ns(base, start_a),
                "timeUnixNano": _ns(base, t),
                "asDouble": 10.0 * since_a,
                "attributes": _attributes({"http.route": "/a"}),
            }
        )
        # /b: no start time; its value drops back at the restart after 29:30
        count_b = 5.0 * (m + 1) if m < 30 else 5.0 * (m - 29)
        route_b.append(
            {
                "timeUnixNano": _ns(base, t),
                "asDouble": count_b,
                "attributes": _attributes({"http.route": "/b"}),
            }
        )
        for end in (t, t + 30):
            if end // 60 in OUTAGE or end > MINUTES * 60 - 30:
                continue
            deltas.append(
                {
                    "startTimeUnixNano": _ns(base, end - 30),
                    "timeUnixNano": _ns(base, end),
                    "asInt": "4",
                    "attributes": _attributes({"http.route": "/pay"}),
                }
            )
    gauge = {
        "name": "queue.size",
        "gauge": {
            "dataPoints": [  # another metric: not the counter's traffic
                {"timeUnixNano": _ns(base, m * 60), "asDouble": 1.0} for m in range(MINUTES)
            ]
        },
    }
    checkout = [
        {
            "name": METRIC,
            "sum": {"aggregationTemporality": 2, "isMonotonic": True, "dataPoints": route_a + route_b},
        },
        {
            "name": "pool.in_use",
            "sum": {
                "aggregationTemporality": 2,
                "isMonotonic": False,
                "dataPoints": [{"timeUnixNano": _ns(base, 90 * 60), "asDouble": 3.0}],
            },
        },
        gauge,
    ]
    billing = [
        {"name": METRIC, "sum": {"aggregationTemporality": 1, "isMonotonic": True, "dataPoints": deltas}}
    ]
    return [{"resourceMetrics": [_resource("checkout", checkout)]},
            {"resourceMetrics": [_resource("billing", billing)]}]  # fmt: skip


def send(otlp_url: str, base: datetime) -> None:
    for body in counter_bodies(base):
        response = httpx.post(f"{otlp_url}/v1/metrics", json=body, timeout=30)
        assert response.status_code == 200, response.text
        assert response.json() == {}


@pytest.fixture
def stored(server: InProcessServer) -> Store:
    send(server.otlp_url, BASE)
    return server.store


def test_counter_rate_handles_resets_temporalities_and_outages(stored: Store) -> None:
    counter = CounterMetric(METRIC)
    checkout = counter_rate(stored, counter, "checkout", now=NOW)
    assert checkout is not None
    assert checkout.start == np.datetime64(BASE, "ns")
    # minute 119 holds the newest data point: its increase is not all reported yet
    assert len(checkout) == MINUTES - 1
    values = checkout.values
    assert np.isnan(values[80:100]).all()  # nothing from anyone after steady traffic: an outage
    observed = np.delete(values, np.arange(80, 100))
    # /b has no start time, so its first point is only a baseline: half of minute 0 is unknown
    np.testing.assert_allclose(observed, [12.5] + [15.0] * (observed.size - 1))
    # the minutes around both resets are whole: a reset is a restart from zero, not a fall
    np.testing.assert_allclose(values[[29, 30, 59, 60]], 15.0)

    only_a = counter_rate(stored, counter, "checkout", "/a", now=NOW)
    assert only_a is not None
    np.testing.assert_allclose(np.delete(only_a.values, np.arange(80, 100)), 10.0)

    billing = counter_rate(stored, counter, "billing", now=NOW)
    assert billing is not None
    expected = np.full(MINUTES - 1, 8.0)
    expected[79] = 4.0  # its second half was reported at 80:00, inside the outage, and never arrived
    expected[80:100] = np.nan
    np.testing.assert_allclose(billing.values, expected)

    later = counter_rate(stored, counter, "checkout", since=BASE + timedelta(minutes=100), now=NOW)
    assert later is not None
    assert later.start == np.datetime64(BASE + timedelta(minutes=100), "ns")
    np.testing.assert_allclose(later.values, 15.0)

    assert counter_rate(stored, counter, "absent", now=NOW) is None
    assert counter_rate(stored, counter, "checkout", "/nothing", now=NOW) is None
    assert counter_rate(stored, CounterMetric("pool.in_use"), "checkout", now=NOW) is None  # not monotonic
    busy = services_with_counter_traffic(stored, counter, min_requests=1000, now=NOW)
    assert [s.service for s in busy] == ["checkout"]
    everyone = services_with_counter_traffic(stored, counter, now=NOW)
    assert [(s.service, s.first_minute) for s in everyone] == [("billing", BASE), ("checkout", BASE)]


def test_service_can_be_named_by_a_data_point_attribute(stored: Store) -> None:
    by_route = CounterMetric(METRIC, service_attribute="http.route")
    pay = counter_rate(stored, by_route, "/pay", now=NOW)
    assert pay is not None
    assert float(np.nanmean(pay.values)) == pytest.approx(8.0, rel=0.01)


def test_refit_reads_the_configured_counter(stored: Store) -> None:
    settings = Settings(forecast_counter_metric=METRIC)
    source = RateSource.from_settings(settings)
    assert source.counter == CounterMetric(METRIC)
    assert RateSource.from_settings(Settings()).counter is None

    def cheap() -> AutoForecaster:
        return AutoForecaster([SeasonalNaiveForecaster("daily", calibration_origins=0)], combine=False)

    refit = RefitSettings(min_requests=1000, horizon=timedelta(hours=2), forecaster=cheap, source=source)
    outcomes = ForecastRefitter(stored, refit).run(now=NOW)
    assert [(o.service, o.cold_start) for o in outcomes] == [("checkout", True)]
    forecast = latest_forecast(stored, "checkout")
    assert forecast is not None
    assert forecast.history_end == BASE + timedelta(minutes=MINUTES - 1)


@pytest.fixture
def counting_server(fresh_store: Store) -> Iterator[InProcessServer]:
    running = InProcessServer(
        fresh_store, forecast_counter_metric=METRIC, analysis_interval_seconds=0
    ).start()
    yield running
    running.stop()


def test_api_serves_series_and_forecast_from_the_counter(counting_server: InProcessServer) -> None:
    base = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0) - timedelta(minutes=MINUTES + 1)
    send(counting_server.otlp_url, base)
    with httpx.Client(base_url=counting_server.api_url, timeout=120) as api:
        series = api.get("/api/v1/series/checkout", params={"since": "3h", "step": "1m"})
        assert series.status_code == 200, series.text
        values = [p["value"] for p in series.json()["points"]]
        assert values[0] == pytest.approx(12.5)
        assert values.count(None) == len(OUTAGE)
        assert all(v == pytest.approx(15.0) for v in values[1:] if v is not None)

        forecast = api.get("/api/v1/forecast/billing", params={"horizon": "1h", "step": "10m"})
        assert forecast.status_code == 200, forecast.text
        assert forecast.json()["cold_start"] is True
        assert len(forecast.json()["points"]) == 6

        missing = api.get("/api/v1/series/nobody")
        assert missing.status_code == 404
        assert METRIC in missing.json()["detail"]
