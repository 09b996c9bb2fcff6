"""Scaling decisions of the predictive autoscaler, and the value KEDA's metrics-api scaler reads."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ScalingDecision(BaseModel):
    decided_at: datetime = Field(description="When the autoscaler decided (UTC)")
    app: str
    namespace: str
    forecast_value: float | None = Field(
        description="Forecast requests per second at now + lead; null without one"
    )
    forecast_quantile: float | None = Field(
        description="The forecast quantile read (0.9 = the 90th percentile)"
    )
    forecast_at: datetime | None = Field(description="The future time the forecast value is for")
    forecast_fitted_at: datetime | None = Field(description="When that forecast was fitted (staleness)")
    desired: int = Field(description="Replicas the forecast alone asks for")
    current_floor: int = Field(description="The floor before this decision (HPA minReplicas or replicas)")
    current_replicas: int = Field(description="Replicas running when it decided")
    applied: int = Field(description="The floor after bounds, rate limits and stabilization")
    keda_value: float = Field(description="The value served to KEDA (0 in a known quiet period)")
    min_replicas: int
    max_replicas: int
    target: str = Field(description="hpa (minReplicas), scale (Deployment scale) or keda")
    dry_run: bool = Field(description="Logged only, nothing was changed")
    reason: str = Field(description="Why, in words")


class ScalingDecisionList(BaseModel):
    app: str
    decisions: list[ScalingDecision] = Field(description="Newest first")


class KedaMetric(BaseModel):
    """Read by KEDA's metrics-api trigger with ``valueLocation: value`` and ``targetValue: 1``."""

    value: float = Field(description="Replicas the forecast asks for now; 0 in a known quiet period")
    decided_at: datetime
    stale: bool = Field(
        description="The latest decision is old or a dry run: min_replicas (at least 1) is served"
    )
