"""The autoscaler's plan for the shop: the floors it would hold over the coming hours.

No cluster is needed to show it: the platform's policy (:func:`tsdev.platform.policy.decide`) is a pure
function of the forecast, the app's scaling spec and its recent recommendations, so the plan is that
function stepped through future ticks, each tick starting from the floor the previous one applied, as
the autoscaler's loop does. Each tick assumes a forecast refitted at that tick (the refit job keeps
it fresh), so staleness never cuts the plan short.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from tsdev.platform.forecast_source import ForecastSource
from tsdev.platform.policy import Decision, Recommendations, decide
from tsdev.platform.spec import Scaling

PLAN_REPLICAS_AT_PEAK = 6
"""The demo shop serves a few requests a minute; a replica is sized so its forecast peak needs this
many, otherwise every tick of the plan would read "1 replica"."""


@dataclass(frozen=True)
class PlanStep:
    at: datetime
    forecast_rps: float | None
    desired: int
    floor: int
    reason: str


def replica_size(peak_rps: float, replicas_at_peak: int = PLAN_REPLICAS_AT_PEAK) -> float:
    """A round requests-per-second target per replica such that ``peak_rps`` needs about
    ``replicas_at_peak`` replicas (two significant digits, so the table reads easily)."""
    raw = max(peak_rps, 1e-6) / replicas_at_peak
    digits = 1 - math.floor(math.log10(raw))
    return round(raw, digits) or raw


def scaling_for(target_rps_per_replica: float, max_replicas: int = 10) -> Scaling:
    """The shop's scaling spec as ``tsdev deploy`` would hold it: the platform's defaults for lead,
    quantile, step limits and stabilization, with the demo's replica size."""
    return Scaling(min_replicas=1, max_replicas=max_replicas, target_rps_per_replica=target_rps_per_replica)


def scaling_plan(
    source: ForecastSource,
    service: str,
    scaling: Scaling,
    *,
    start: datetime,
    hours: float,
    tick: timedelta = timedelta(minutes=5),
) -> list[PlanStep]:
    """The floor at every ``tick`` from ``start`` for ``hours``, starting from ``min_replicas``."""
    history = Recommendations(timedelta(seconds=scaling.scale_down_stabilization_seconds))
    floor = scaling.min_replicas
    steps: list[PlanStep] = []
    at = start
    end = start + timedelta(hours=hours)
    while at <= end:
        point = source.quantile_at(service, at + timedelta(seconds=scaling.lead_seconds), scaling.quantile)
        if point is not None:
            point = dataclasses.replace(point, fitted_at=at)
        decision: Decision = decide(
            now=at,
            app=service,
            namespace="default",
            scaling=scaling,
            forecast=point,
            quiet_peak=None,
            current_floor=floor,
            current_replicas=floor,
            history=history,
        )
        floor = decision.applied
        rps = None if point is None else point.value
        steps.append(PlanStep(at, rps, decision.desired, decision.applied, decision.reason))
        at += tick
    return steps


def hourly(steps: list[PlanStep]) -> list[PlanStep]:
    """One step per hour (the first tick of each), for a table that fits a screen."""
    shown: list[PlanStep] = []
    for step in steps:
        if not shown or step.at - shown[-1].at >= timedelta(hours=1):
            shown.append(step)
    return shown
