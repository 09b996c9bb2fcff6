"""The autoscaler's decision, as a pure function of the forecast, the spec and recent history.

Kept free of I/O so every safety rule is tested directly: a stale or missing forecast stops raising the
floor and falls back to the minimum; nothing exceeds the maximum; scale-up is limited per step like the
HPA's own policy (``max(pods, percent)``); scale-down takes the highest recommendation of the
stabilization window, as the HPA does, so a dip in the forecast does not drop pods a minute before the
next rise.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tsdev.platform.forecast_source import ForecastPoint
from tsdev.platform.spec import Scaling


@dataclass(frozen=True)
class Decision:
    """What one tick decided for one app; every field is stored and served by the API."""

    decided_at: datetime
    app: str
    namespace: str
    forecast: ForecastPoint | None
    desired: int
    """Replicas the forecast alone asks for (0 without a usable forecast)."""
    current_floor: int
    current_replicas: int
    applied: int
    """The floor (HPA ``minReplicas``) or replicas (scale subresource) after bounds, limits and
    stabilization."""
    keda_value: float
    """What ``/api/v1/scaling/{app}/keda`` serves: ``applied``, or 0 in a known quiet period."""
    reason: str
    min_replicas: int
    max_replicas: int
    target: str = ""
    """Where it was applied: ``hpa``, ``scale``, ``keda`` (set by the loop)."""
    dry_run: bool = False


@dataclass
class Recommendations:
    """Recent recommendations of one app, for the scale-down stabilization window."""

    window: timedelta
    items: deque[tuple[datetime, int]] = field(default_factory=deque)

    def add(self, at: datetime, replicas: int) -> None:
        self.items.append((at, replicas))
        while self.items and at - self.items[0][0] > self.window:
            self.items.popleft()

    def highest(self) -> int:
        return max((r for _, r in self.items), default=0)


def replicas_for(rps: float, target_rps_per_replica: float) -> int:
    """Pods needed for ``rps`` at the per-replica target; 0 for no traffic."""
    if rps <= 0:
        return 0
    return math.ceil(rps / target_rps_per_replica - 1e-9)


def decide(
    *,
    now: datetime,
    app: str,
    namespace: str,
    scaling: Scaling,
    forecast: ForecastPoint | None,
    quiet_peak: ForecastPoint | None,
    current_floor: int,
    current_replicas: int,
    history: Recommendations,
) -> Decision:
    """The floor for ``app`` at ``now``.

    ``forecast`` is the quantile at now + lead; ``quiet_peak`` the highest upper quantile over the quiet
    window (only consulted when the app allows scaling to zero through KEDA)."""
    lo, hi = scaling.min_replicas, scaling.max_replicas
    desired = 0
    usable = False
    if not scaling.predictive:
        proposal, reason = lo, "predictive scaling is off: floor at min_replicas"
    elif forecast is None:
        proposal, reason = lo, "no forecast covers now + lead: floor falls back to min_replicas"
    elif forecast.age(now) > timedelta(seconds=scaling.max_forecast_age_seconds):
        age = int(forecast.age(now).total_seconds())
        proposal = lo
        reason = (
            f"forecast fitted {age} s ago is stale (limit {scaling.max_forecast_age_seconds} s):"
            " floor falls back to min_replicas"
        )
    else:
        assert scaling.target_rps_per_replica is not None  # the spec requires it when predictive
        desired = replicas_for(forecast.value, scaling.target_rps_per_replica)
        proposal, usable = desired, True
        reason = (
            f"q{forecast.quantile:g} forecast {forecast.value:.1f} rps at {forecast.at:%H:%M} "
            f"/ {scaling.target_rps_per_replica:g} rps per replica = {desired}"
        )
    bounded = min(max(proposal, lo), hi)
    if bounded != proposal:
        reason += f"; bounded to [{lo}, {hi}] = {bounded}"
    applied = bounded
    base = max(current_floor, 1)
    if not usable:
        # Without a forecast to trust, the floor is not tsdev's to hold: back to the minimum at once,
        # and the reactive HPA alone decides. History restarts so old forecasts cannot hold it later.
        history.items.clear()
    else:
        history.add(now, bounded)
    if usable and bounded > current_floor:
        step = max(scaling.scale_up_max_pods, math.ceil(base * scaling.scale_up_max_percent / 100))
        if bounded - current_floor > step:
            applied = current_floor + step
            reason += f"; scale-up limited to +{step} per step = {applied}"
    elif usable and bounded < current_floor:
        stabilized = min(history.highest(), current_floor)
        if stabilized > bounded:
            applied = stabilized
            reason += (
                f"; scale-down held at {stabilized} by the"
                f" {scaling.scale_down_stabilization_seconds} s stabilization window"
            )
        if current_floor - applied > scaling.scale_down_max_pods:
            applied = current_floor - scaling.scale_down_max_pods
            reason += f"; scale-down limited to -{scaling.scale_down_max_pods} per step = {applied}"
    applied = min(max(applied, lo), hi)
    keda_value = float(applied)
    keda = scaling.keda
    if (
        keda.enabled
        and keda.allow_zero
        and scaling.predictive
        and quiet_peak is not None
        and quiet_peak.age(now) <= timedelta(seconds=scaling.max_forecast_age_seconds)
        and quiet_peak.value < keda.quiet_threshold_rps
    ):
        keda_value = 0.0
        reason += (
            f"; quiet period: forecast stays under {keda.quiet_threshold_rps:g} rps for "
            f"{keda.quiet_window_seconds} s, KEDA may scale to zero"
        )
    return Decision(
        decided_at=now,
        app=app,
        namespace=namespace,
        forecast=forecast,
        desired=desired,
        current_floor=current_floor,
        current_replicas=current_replicas,
        applied=applied,
        keda_value=keda_value,
        reason=reason,
        min_replicas=lo,
        max_replicas=hi,
    )
