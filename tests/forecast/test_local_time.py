"""Forecasts on a time zone's wall clock: a daily peak that moves in UTC when daylight saving ends."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
from pydantic import ValidationError

from tsdev.analysis.forecast import AutoForecaster, Event, LocalTimeForecaster, RegularSeries
from tsdev.analysis.forecast.local_time import to_wall_clock, wall_times
from tsdev.analysis.forecast.refit import RefitSettings
from tsdev.analysis.seasonality import analyze_seasonality
from tsdev.core.settings import Settings

ZONE = "America/New_York"
HOUR = np.timedelta64(1, "h").astype("timedelta64[ns]")
START = np.datetime64("2024-09-23T04:00", "ns")  # Monday 00:00 in New York (EDT, UTC-4)
FALL_BACK = np.datetime64("2024-11-03T06:00", "ns")  # 01:00 EST: the clocks went back at 06:00 UTC
PEAK_HOUR = 10  # local


def local_traffic(start: np.datetime64, hours: int, seed: int = 0) -> RegularSeries:
    """Hourly UTC counts of traffic that peaks at 10:00 New York time, quieter at weekends."""
    rng = np.random.default_rng(seed)
    utc = start + np.arange(hours) * HOUR
    wall = wall_times(utc, ZONE)
    hour = (wall - wall.astype("datetime64[D]")) / np.timedelta64(1, "h")
    weekday = (wall.astype("datetime64[D]").astype(np.int64) - 4) % 7  # 1970-01-01 was a Thursday
    level = 20 + 200 * np.exp(-((hour - PEAK_HOUR) ** 2) / 4) * np.where(weekday < 5, 1.0, 0.6)
    return RegularSeries(start, HOUR, level + rng.normal(0, 3, hours))


def utc_hour_of_peak(forecast: np.ndarray, first: np.datetime64) -> int:
    """UTC hour of the highest point of the first 24 forecast hours."""
    peak = first + int(np.argmax(forecast[:24])) * HOUR
    return int((peak - peak.astype("datetime64[D]")) / np.timedelta64(1, "h"))


def history_until(end: np.datetime64) -> RegularSeries:
    return local_traffic(START, int((end - START) // HOUR))


def test_the_peak_is_forecast_at_its_new_utc_hour_two_days_after_the_clocks_go_back() -> None:
    # Six weeks with the peak at 14:00 UTC, then two days with it at 15:00 UTC. A Monday follows.
    end = np.datetime64("2024-11-05T05:00", "ns")  # Tuesday 00:00 EST
    model = LocalTimeForecaster(ZONE).fit(history_until(end))
    forecast = model.predict(timedelta(hours=48))
    assert forecast["timestamp"][0] == end.astype("datetime64[us]").item()
    assert utc_hour_of_peak(forecast["mean"].to_numpy(), end) == PEAK_HOUR + 5
    assert "America/New_York wall-clock time" in model.result().message
    # Fitted in UTC, six weeks of the old hour outweigh two days of the new one.
    in_utc = AutoForecaster().fit(history_until(end)).predict_mean(48)
    assert utc_hour_of_peak(in_utc, end) == PEAK_HOUR + 4


def test_updates_across_the_change_keep_the_forecast_on_the_local_clock() -> None:
    # Fitted two days before the clocks go back, then fed hour by hour (in UTC) for three days.
    fit_end = np.datetime64("2024-11-01T04:00", "ns")  # Friday 00:00 EDT
    full = local_traffic(START, int((fit_end - START) // HOUR) + 72)
    split = int((fit_end - START) // HOUR)
    model = LocalTimeForecaster(ZONE).fit(full.slice(0, split))
    before = model.predict_mean(24)
    assert utc_hour_of_peak(before, fit_end) == PEAK_HOUR + 4
    for i in range(split, len(full)):
        model.update(full.values[i : i + 1])
    assert model.next_time_ == fit_end + 72 * HOUR
    after = model.predict_mean(48)
    assert utc_hour_of_peak(after, model.next_time_) == PEAK_HOUR + 5
    # Fed the same three days as one series placed by its timestamps, the model forecasts the same.
    batch = LocalTimeForecaster(ZONE).fit(full.slice(0, split)).update(full.slice(split))
    np.testing.assert_allclose(batch.predict_mean(48), after)


def test_the_wall_clock_keeps_the_first_pass_of_the_repeated_hour_and_skips_none() -> None:
    series = RegularSeries(FALL_BACK - 3 * HOUR, HOUR, np.arange(6, dtype=np.float64))
    wall = to_wall_clock(series, ZONE)
    # UTC 03..08 is EDT 23, 00, 01, then EST 01 (again), 02, 03: five wall hours from 23:00.
    assert wall.start == np.datetime64("2024-11-02T23:00", "ns")
    np.testing.assert_array_equal(wall.values, [0, 1, 2, 4, 5])
    spring = RegularSeries(np.datetime64("2025-03-09T05:00", "ns"), HOUR, np.arange(4, dtype=np.float64))
    # UTC 05..08 is EST 00, 01, then EDT 03, 04: 02:00 never happened on the wall, it is a gap.
    np.testing.assert_array_equal(to_wall_clock(spring, ZONE).values, [0, 1, np.nan, 2, 3])


def test_declared_events_are_placed_on_the_wall_clock_too() -> None:
    end = np.datetime64("2024-11-05T05:00", "ns")
    sale = Event("sale", datetime(2024, 11, 5, 5), datetime(2024, 11, 6, 5), 3.0)  # Tuesday, New York
    plain = LocalTimeForecaster(ZONE).fit(history_until(end)).predict_mean(48)
    boosted = LocalTimeForecaster(ZONE).fit(history_until(end), [sale]).predict_mean(48)
    np.testing.assert_allclose(boosted[:24], 3 * plain[:24], rtol=1e-6)
    np.testing.assert_allclose(boosted[24:], plain[24:], rtol=1e-6)


def test_an_unknown_zone_and_a_step_that_cannot_follow_it_are_refused() -> None:
    series = history_until(np.datetime64("2024-10-20T04:00", "ns"))
    with pytest.raises(ValueError, match="unknown time zone"):
        LocalTimeForecaster("Mars/Olympus_Mons").fit(series)
    step = np.timedelta64(45, "m").astype("timedelta64[ns]")
    odd = RegularSeries(FALL_BACK - 40 * step, step, np.ones(80))
    with pytest.raises(ValueError, match="does not divide"):
        LocalTimeForecaster(ZONE).fit(odd)


def test_the_configured_zones_select_the_forecaster_of_each_service() -> None:
    assert isinstance(RefitSettings.from_settings(Settings()).build("web"), AutoForecaster)
    settings = RefitSettings.from_settings(Settings(forecast_timezone=f"{ZONE}, checkout = Europe/Berlin"))
    zoned = settings.build("web")
    assert isinstance(zoned, LocalTimeForecaster) and zoned.timezone == ZONE
    berlin = settings.build("checkout")
    assert isinstance(berlin, LocalTimeForecaster) and berlin.timezone == "Europe/Berlin"
    only_one = RefitSettings.from_settings(Settings(forecast_timezone="checkout=Europe/Berlin"))
    assert isinstance(only_one.build("web"), AutoForecaster)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Mars/Olympus_Mons", "unknown time zone"),
        (f"{ZONE},checkout=Nowhere/X", "unknown time zone 'Nowhere/X'"),
        (f"{ZONE},Europe/Berlin", "only the first entry"),
        (f"{ZONE},=Europe/Berlin", "needs a service name"),
        ("web=UTC,web=Europe/Berlin", "given a zone twice"),
    ],
)
def test_a_bad_zone_setting_is_refused_naming_the_bad_part(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(forecast_timezone=text)


def test_peak_windows_are_told_on_the_wall_clock() -> None:
    series = history_until(np.datetime64("2024-10-28T04:00", "ns"))  # five weeks, all in EDT
    [local] = analyze_seasonality(series, timezone=ZONE).peaks
    assert (local.start_hour, local.end_hour, local.timezone) == (PEAK_HOUR, PEAK_HOUR + 1, ZONE)
    assert local.describe().startswith("every day 10:00-11:00 America/New_York")
    [in_utc] = analyze_seasonality(series).peaks
    assert (in_utc.start_hour, in_utc.timezone) == (PEAK_HOUR + 4, "UTC")
