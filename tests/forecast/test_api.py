"""``/api/v1/forecast``, ``/seasonality``, ``/series`` and ``/events`` over traffic sent through OTLP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.support.server import InProcessServer
from tests.support.traffic import send_requests


@pytest.fixture
def api(server: InProcessServer) -> Iterator[httpx.Client]:
    send_requests(server.otlp_url, "checkout", minutes=20, per_minute=6)
    with httpx.Client(base_url=f"{server.api_url}/api/v1", timeout=120) as client:
        yield client


def test_forecast_has_the_requested_points_and_says_it_is_a_cold_start(api: httpx.Client) -> None:
    response = api.get("/forecast/checkout", params={"horizon": "6h", "step": "30m", "quantiles": "0.5,0.9"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["cold_start"] is True and body["calibrated"] is False
    assert "under 2 days" in body["message"]
    assert body["unit"] == "requests/min" and body["step_seconds"] == 1800
    assert len(body["points"]) == 12
    first = body["points"][0]
    assert set(first["quantiles"]) == {"0.5", "0.9"}
    assert first["quantiles"]["0.9"] > first["quantiles"]["0.5"] > 0
    assert abs(first["mean"] - 6) < 1.5  # six requests a minute were sent
    start = datetime.fromisoformat(first["timestamp"].replace("Z", "+00:00"))
    assert abs(start - datetime.now(UTC)) < timedelta(minutes=3)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"horizon": "soon"}, "horizon"),
        ({"horizon": "30d"}, "horizon"),
        ({"step": "7s"}, "step"),
        ({"horizon": "1h", "step": "2h"}, "step"),
        ({"quantiles": "0.5,1.5"}, "quantiles"),
        ({"quantiles": "median"}, "quantiles"),
    ],
)
def test_bad_parameters_answer_400_naming_them(
    api: httpx.Client, params: dict[str, str], parameter: str
) -> None:
    response = api.get("/forecast/checkout", params=params)
    assert response.status_code == 400
    assert response.json()["parameter"] == parameter


def test_unknown_service_is_404(api: httpx.Client) -> None:
    for path in ("/forecast/nobody", "/seasonality/nobody", "/series/nobody"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert "nobody" in response.json()["detail"]


def test_series_and_seasonality(api: httpx.Client) -> None:
    series = api.get("/series/checkout", params={"since": "1h", "step": "5m"}).json()
    values = [p["value"] for p in series["points"]]
    assert sum(v for v in values if v is not None) == pytest.approx(6 * 20 / 5, rel=0.01)
    seasonality = api.get("/seasonality/checkout").json()
    assert seasonality["service"] == "checkout"
    assert seasonality["significant"] == [] and seasonality["summary"] == "no significant seasonality"


def test_declared_event_raises_the_served_forecast(api: httpx.Client) -> None:
    plain = api.get("/forecast/checkout", params={"horizon": "6h", "step": "1h"}).json()
    window_start = datetime.fromisoformat(plain["points"][2]["timestamp"].replace("Z", "+00:00"))
    event = {
        "name": "flash sale",
        "service": "checkout",
        # Half an hour of slack on both sides: the served points start from the current minute, so
        # they may have moved on by the time the boosted forecast is computed.
        "start": (window_start - timedelta(minutes=30)).isoformat(),
        "end": (window_start + timedelta(hours=2, minutes=30)).isoformat(),
        "multiplier": 4,
    }
    created = api.post("/events", json=event)
    assert created.status_code == 201, created.text
    assert created.json()["service"] == "checkout" and created.json()["id"]
    api.post("/events", json={**event, "service": "all", "name": "everyone"}).raise_for_status()

    boosted = api.get("/forecast/checkout", params={"horizon": "6h", "step": "1h"}).json()
    ratios = [b["mean"] / p["mean"] for b, p in zip(boosted["points"], plain["points"], strict=True)]
    assert ratios[2] == pytest.approx(16, rel=0.05) and ratios[3] == pytest.approx(16, rel=0.05)
    assert ratios[0] == pytest.approx(1, rel=0.05) and ratios[5] == pytest.approx(1, rel=0.05)
    listed = api.get("/events", params={"service": "checkout"}).json()["events"]
    assert {e["name"] for e in listed} == {"flash sale", "everyone"}
    assert api.get("/events", params={"service": "other"}).json()["events"][0]["service"] == "all"


@pytest.mark.parametrize(
    ("change", "parameter"),
    [({"multiplier": 0}, "multiplier"), ({"end": "2025-01-01T00:00:00Z"}, "end"), ({"name": ""}, "name")],
)
def test_invalid_event_is_400(api: httpx.Client, change: dict[str, object], parameter: str) -> None:
    event = {"name": "sale", "start": "2025-01-02T00:00:00Z", "end": "2025-01-03T00:00:00Z", "multiplier": 2}
    response = api.post("/events", json={**event, **change})
    assert response.status_code == 400
    assert response.json()["parameter"] == parameter
