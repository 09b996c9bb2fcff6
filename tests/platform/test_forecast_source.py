"""Forecast sources: the quantile at a time from a forecast frame, from the store and from JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from tsdev.analysis.forecast import ForecastResult
from tsdev.platform.forecast_source import StoreForecastSource, peak_over, point_from_frame, result_from_json

FITTED = datetime(2026, 5, 4, 7, 0, tzinfo=UTC)


def _frame() -> pl.DataFrame:
    times = [FITTED + timedelta(minutes=i) for i in range(10)]
    return pl.DataFrame(
        {
            "timestamp": times,
            "mean": [60.0 * i for i in range(10)],
            "q0.5": [60.0 * i for i in range(10)],
            "q0.9": [120.0 * i for i in range(10)],
        }
    )


def test_point_is_interpolated_between_steps_in_requests_per_second() -> None:
    p = point_from_frame(_frame(), FITTED, FITTED + timedelta(minutes=3, seconds=30), 0.9)
    assert p is not None
    assert p.value == 7.0  # halfway between 360 and 480 requests/min
    assert p.fitted_at == FITTED


def test_a_missing_quantile_reads_the_next_higher_one() -> None:
    p = point_from_frame(_frame(), FITTED, FITTED + timedelta(minutes=2), 0.8)
    assert p is not None and p.value == 4.0


def test_times_outside_the_forecast_have_no_point() -> None:
    assert point_from_frame(_frame(), FITTED, FITTED - timedelta(minutes=1), 0.9) is None
    assert point_from_frame(_frame(), FITTED, FITTED + timedelta(minutes=30), 0.9) is None


def test_store_source_and_peak_over_a_window() -> None:
    result = ForecastResult(
        model="m", fitted_at=FITTED, step=timedelta(minutes=1), history=timedelta(days=3),
        cold_start=False, calibrated=True, message="", forecast=_frame(),
    )  # fmt: skip
    source = StoreForecastSource(lambda service: result if service == "checkout" else None)
    peak = peak_over(source, "checkout", FITTED, FITTED + timedelta(minutes=5), 0.9, timedelta(minutes=1))
    assert peak is not None and peak.value == 10.0
    assert source.quantile_at("other", FITTED, 0.9) is None


def test_store_source_survives_a_failing_loader() -> None:
    def broken(service: str) -> ForecastResult | None:
        raise RuntimeError("store down")

    assert StoreForecastSource(broken).quantile_at("checkout", FITTED, 0.9) is None


def test_result_from_the_api_answer() -> None:
    body = {
        "fitted_at": "2026-05-04T07:00:00Z",
        "step_seconds": 60,
        "unit": "requests/min",
        "points": [
            {"timestamp": "2026-05-04T07:00:00Z", "mean": 60.0, "quantiles": {"0.9": 120.0}},
            {"timestamp": "2026-05-04T07:01:00Z", "mean": 90.0, "quantiles": {"0.9": 180.0}},
        ],
    }
    result = result_from_json(body)
    assert result is not None and result.forecast is not None
    p = point_from_frame(result.forecast, result.fitted_at, FITTED + timedelta(seconds=60), 0.9)
    assert p is not None and p.value == 3.0
    assert result_from_json({"points": []}) is None
