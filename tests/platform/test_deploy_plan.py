"""Starting replicas of a deploy: never below the forecast's need, never shrinking what runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.platform.builders import app_spec, constant_forecast
from tsdev.platform.deploy import starting_replicas


def test_the_forecast_need_sets_the_floor_and_running_pods_are_kept() -> None:
    now = datetime.now(UTC)
    spec = app_spec("shop", min_replicas=2)
    assert constant_forecast(55.0).quantile_at("web", now, 0.9) is not None
    replicas, floor, reason = starting_replicas(spec, 3, constant_forecast(55.0), now)
    assert (replicas, floor) == (6, 6)
    assert "needs 6" in reason


def test_a_burst_already_running_is_kept_but_does_not_raise_the_floor() -> None:
    now = datetime.now(UTC)
    replicas, floor, _ = starting_replicas(app_spec("shop", min_replicas=2), 9, constant_forecast(25.0), now)
    assert (replicas, floor) == (9, 3)


def test_stale_forecasts_and_the_maximum_bound_the_start() -> None:
    now = datetime.now(UTC)
    spec = app_spec("shop", min_replicas=2, max_replicas=5, max_forecast_age_seconds=600)
    stale = constant_forecast(80.0, fitted_at=now - timedelta(hours=1))
    assert starting_replicas(spec, 0, stale, now)[:2] == (2, 2)
    assert starting_replicas(spec, 0, constant_forecast(500.0), now)[:2] == (5, 5)
