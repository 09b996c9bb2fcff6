"""The autoscaler's decision rules, on their own: bounds, rate limits, stabilization, fallbacks, quiet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tsdev.platform.forecast_source import ForecastPoint
from tsdev.platform.policy import Decision, Recommendations, decide, replicas_for
from tsdev.platform.spec import Scaling

NOW = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def _scaling(**kw: object) -> Scaling:
    base: dict[str, object] = {"min_replicas": 2, "max_replicas": 20, "target_rps_per_replica": 10.0}
    return Scaling.model_validate({**base, **kw})


def _point(rps: float, age_s: float = 60) -> ForecastPoint:
    return ForecastPoint(
        at=NOW + timedelta(minutes=3), value=rps, quantile=0.9, fitted_at=NOW - timedelta(seconds=age_s)
    )


def _decide(
    scaling: Scaling, rps: float | None, floor: int, history: Recommendations | None = None, **kw: object
) -> Decision:
    return decide(
        now=kw.pop("now", NOW),  # type: ignore[arg-type]
        app="checkout",
        namespace="shop",
        scaling=scaling,
        forecast=None if rps is None else _point(rps, **kw),  # type: ignore[arg-type]
        quiet_peak=None,
        current_floor=floor,
        current_replicas=floor,
        history=history or Recommendations(timedelta(seconds=scaling.scale_down_stabilization_seconds)),
    )


def test_replicas_round_up_and_no_traffic_needs_none() -> None:
    assert replicas_for(101, 10) == 11
    assert replicas_for(100, 10) == 10
    assert replicas_for(0, 10) == 0


def test_forecast_becomes_the_floor_within_bounds() -> None:
    d = _decide(_scaling(), 64.0, floor=5)
    assert (d.desired, d.applied) == (7, 7)
    assert "64.0 rps" in d.reason
    assert _decide(_scaling(), 1000.0, floor=20).applied == 20
    assert _decide(_scaling(), 1.0, floor=2).applied == 2


def test_scale_up_is_limited_per_step() -> None:
    d = _decide(_scaling(scale_up_max_pods=4, scale_up_max_percent=100), 190.0, floor=2)
    assert d.desired == 19
    assert d.applied == 6  # +max(4 pods, 100% of 2)
    assert "scale-up limited" in d.reason


def test_scale_down_waits_for_the_stabilization_window() -> None:
    s = _scaling(scale_down_stabilization_seconds=300, scale_down_max_pods=100)
    history = Recommendations(timedelta(seconds=300))
    assert _decide(s, 100.0, floor=10, history=history).applied == 10
    held = _decide(s, 30.0, floor=10, history=history, now=NOW + timedelta(seconds=120))
    assert held.applied == 10
    assert "stabilization window" in held.reason
    released = _decide(s, 30.0, floor=10, history=history, now=NOW + timedelta(seconds=301))
    assert released.applied == 3


def test_stale_or_missing_forecasts_fall_back_to_min_at_once() -> None:
    s = _scaling(max_forecast_age_seconds=600)
    history = Recommendations(timedelta(seconds=300))
    _decide(s, 150.0, floor=15, history=history)
    stale = _decide(s, 150.0, floor=15, history=history, age_s=601)
    assert stale.applied == 2
    assert "stale" in stale.reason
    missing = _decide(s, None, floor=15, history=history)
    assert missing.applied == 2
    assert "no forecast" in missing.reason


def test_never_above_max_even_when_the_floor_was() -> None:
    assert _decide(_scaling(max_replicas=5), 10_000.0, floor=9).applied == 5


def test_quiet_periods_go_to_zero_only_when_allowed() -> None:
    def quiet(allow: bool, peak: float) -> float:
        s = _scaling(keda={"enabled": True, "allow_zero": allow, "quiet_threshold_rps": 1.0})
        return decide(
            now=NOW,
            app="a",
            namespace="n",
            scaling=s,
            forecast=_point(0.2),
            quiet_peak=_point(peak),
            current_floor=2,
            current_replicas=2,
            history=Recommendations(timedelta(seconds=300)),
        ).keda_value

    assert quiet(True, 0.5) == 0.0
    assert quiet(False, 0.5) == 2.0
    assert quiet(True, 3.0) == 2.0
