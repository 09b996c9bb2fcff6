"""The request-rate series from the store, stored forecasts, incremental refits, events and cold start."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from tests.support.traffic import insert_history
from tsdev.analysis.forecast import AutoForecaster, Event, HoltWintersForecaster, SeasonalNaiveForecaster
from tsdev.analysis.forecast.refit import ForecastRefitter, RefitSettings, refit_forecasts
from tsdev.analysis.forecast.series_sql import request_rate, services_with_traffic
from tsdev.analysis.forecast.storage import (
    add_event,
    latest_forecast,
    latest_seasonality,
    list_events,
)
from tsdev.analysis.jobs import repository
from tsdev.core.store import Store
from tsdev.core.timezones import ServiceZones

END = datetime(2025, 3, 10, 0, 0)  # a Monday, naive UTC
NOW = END + timedelta(seconds=30)  # inside the minute after the history: that minute is incomplete


def cheap() -> AutoForecaster:
    """Two fast candidates and a short backtest keep a full fit to a second or two."""
    return AutoForecaster(
        [
            SeasonalNaiveForecaster("daily", calibration_origins=0),
            HoltWintersForecaster(calibration_origins=0),
        ],
        calibration_origins=16,
        origin_every=timedelta(hours=3),
        combine=False,
    )


SETTINGS = RefitSettings(min_requests=50, horizon=timedelta(hours=12), forecaster=cheap)


def test_series_fills_idle_minutes_with_zero_and_marks_outages(fresh_store: Store) -> None:
    outage = (END - timedelta(hours=2), END - timedelta(hours=1, minutes=30))
    insert_history(fresh_store, "busy", END, timedelta(hours=4), rate=30, skip=outage)
    insert_history(fresh_store, "quiet", END - timedelta(hours=3), timedelta(minutes=10), rate=2)
    insert_history(fresh_store, "quiet", END, timedelta(minutes=1), rate=5, operation="POST /pay")
    insert_history(fresh_store, "busy", END + timedelta(minutes=1), timedelta(minutes=1), rate=99)

    busy = request_rate(fresh_store, "busy", now=NOW)
    assert busy is not None
    assert len(busy) == 240 and busy.start == np.datetime64(END - timedelta(hours=4), "ns")
    gap = slice(120, 150)
    assert np.isnan(busy.values[gap]).all()  # nothing from anyone after steady traffic: an outage
    assert np.nansum(busy.values) == 30 * 210  # the incomplete minute at NOW is not counted

    quiet = request_rate(fresh_store, "quiet", now=NOW)
    assert quiet is not None
    assert quiet.values[:10].tolist() == [2.0] * 10
    assert (quiet.values[10:-1] == 0).all()  # idle while "busy" was served: true zeros
    assert request_rate(fresh_store, "quiet", "POST /pay", now=NOW) is not None
    assert request_rate(fresh_store, "quiet", "GET /nothing", now=NOW) is None
    assert request_rate(fresh_store, "absent", now=NOW) is None
    assert [s.service for s in services_with_traffic(fresh_store, min_requests=50, now=NOW)] == ["busy"]


def test_refit_stores_a_calibrated_forecast_then_updates_it_incrementally(fresh_store: Store) -> None:
    insert_history(fresh_store, "shop", END, timedelta(days=4))
    insert_history(fresh_store, "tiny", END, timedelta(hours=1), rate=0.0)
    refitter = ForecastRefitter(fresh_store, SETTINGS)

    [outcome] = refitter.run(now=NOW)
    assert (outcome.service, outcome.incremental, outcome.cold_start) == ("shop", False, False)
    stored = latest_forecast(fresh_store, "shop")
    assert stored is not None and stored.calibrated and not stored.cold_start
    assert stored.start == END and stored.history_end == END
    assert stored.mean.size == 12 * 60 and stored.quantile_values.shape == (len(stored.quantiles), 720)
    assert "auto" in stored.scores and set(stored.coverage) == {"80%", "90%"}
    # A daily cycle that repeats exactly is forecast within a few requests of the truth.
    truth = insert_history(fresh_store, "shop", END + timedelta(minutes=30), timedelta(minutes=30))
    assert np.abs(stored.mean[:30] - truth).max() < 5
    seasonality = latest_seasonality(fresh_store, "shop")
    assert seasonality is not None and "daily" in seasonality.significant
    finding = repository.get(fresh_store, seasonality.fingerprint)
    assert finding is not None and (finding.kind, finding.service, finding.status) == (
        "seasonality",
        "shop",
        "open",
    )
    assert "daily" in finding.title and finding.evidence["periods"]

    later = END + timedelta(minutes=30, seconds=5)
    [update] = refitter.run(now=later)
    assert update.incremental
    moved = latest_forecast(fresh_store, "shop")
    assert moved is not None
    assert moved.history_end == END + timedelta(minutes=30) and moved.start == moved.history_end
    assert moved.fitted_at == stored.fitted_at  # parameters kept; only the state moved


def test_cold_start_is_stored_with_its_message_and_wide_intervals(fresh_store: Store) -> None:
    insert_history(fresh_store, "new", END, timedelta(hours=6), rate=20)
    # The job's entry point, as a Celery task without kept models calls it.
    [outcome] = refit_forecasts(fresh_store, settings=SETTINGS, now=NOW)
    assert outcome.cold_start and not outcome.incremental
    stored = latest_forecast(fresh_store, "new")
    assert stored is not None and stored.cold_start and not stored.calibrated
    assert "under 2 days" in stored.message
    frame = stored.points(timedelta(hours=2), timedelta(minutes=5), (0.1, 0.9))
    assert frame.height == 24
    assert ((frame["q0.9"] - frame["q0.1"]) > 0).all()  # never a confident point on six hours of data
    assert latest_seasonality(fresh_store, "new") is None  # no cycle is claimed from six hours


def test_declared_event_raises_the_stored_forecast_in_its_window(fresh_store: Store) -> None:
    insert_history(fresh_store, "shop", END, timedelta(hours=6), rate=20)
    refitter = ForecastRefitter(fresh_store, SETTINGS)
    refitter.refit("shop", now=NOW)
    before = latest_forecast(fresh_store, "shop")
    sale = Event("sale", END + timedelta(hours=2), END + timedelta(hours=4), 3.0)
    add_event(fresh_store, sale)
    add_event(fresh_store, Event("other shop", END, END + timedelta(hours=9), 5.0, service="elsewhere"))
    assert [e.event.name for e in list_events(fresh_store, "shop")] == ["sale"]
    assert len(list_events(fresh_store)) == 2

    refitter.refit("shop", now=NOW)  # events changed: refitted, not updated
    after = latest_forecast(fresh_store, "shop")
    assert before is not None and after is not None
    ratio = after.mean / before.mean
    assert np.allclose(ratio[120:240], 3.0)
    assert np.allclose(ratio[:120], 1.0) and np.allclose(ratio[240:], 1.0)


@pytest.mark.parametrize(("step", "expected"), [(timedelta(minutes=1), 60), (timedelta(minutes=15), 4)])
def test_points_resample_to_coarser_steps_and_interpolate_quantiles(
    fresh_store: Store, step: timedelta, expected: int
) -> None:
    insert_history(fresh_store, "shop", END, timedelta(hours=3), rate=10)
    ForecastRefitter(fresh_store, SETTINGS).refit("shop", now=NOW)
    stored = latest_forecast(fresh_store, "shop")
    assert stored is not None
    frame = stored.points(timedelta(hours=1), step, (0.3, 0.5, 0.7))
    assert frame.height == expected
    assert (frame["q0.3"] <= frame["q0.5"]).all() and (frame["q0.5"] <= frame["q0.7"]).all()
    assert frame["timestamp"][1] - frame["timestamp"][0] == step


def test_refit_on_a_configured_time_zone_stores_utc_points_and_local_peak_windows(fresh_store: Store) -> None:
    insert_history(fresh_store, "shop", END, timedelta(days=4))  # peaks at 14:00 UTC, 15:00 in Berlin
    zoned = RefitSettings(
        min_requests=50,
        horizon=timedelta(hours=12),
        forecaster=cheap,
        timezones=ServiceZones.parse("Asia/Tokyo,shop=Europe/Berlin"),
    )
    refitter = ForecastRefitter(fresh_store, zoned)
    [outcome] = refitter.run(now=NOW)
    assert not outcome.incremental and "Europe/Berlin wall-clock time" in outcome.message
    stored = latest_forecast(fresh_store, "shop")
    assert stored is not None and stored.start == END and "Europe/Berlin" in stored.message
    truth = insert_history(fresh_store, "shop", END + timedelta(minutes=30), timedelta(minutes=30))
    assert np.abs(stored.mean[:30] - truth).max() < 5
    seasonality = latest_seasonality(fresh_store, "shop")
    assert seasonality is not None and "Europe/Berlin" in seasonality.summary
    assert "UTC" not in seasonality.summary

    [update] = refitter.run(now=END + timedelta(minutes=30, seconds=5))
    moved = latest_forecast(fresh_store, "shop")
    assert update.incremental and moved is not None
    assert moved.start == END + timedelta(minutes=30) and moved.fitted_at == stored.fitted_at
