"""``/api/v1/scaling``: the predictive autoscaler's decisions, and the value KEDA reads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from tsdev.platform.decisions import DecisionRecord, keda_value, list_decisions, record_decisions
from tsdev.server.api.deps import StoreDep
from tsdev.server.api.schemas.common import ERROR_RESPONSES
from tsdev.server.api.schemas.scaling import KedaMetric, ScalingDecision, ScalingDecisionList

router = APIRouter(prefix="/scaling", tags=["scaling"], responses=ERROR_RESPONSES)


@router.get("/{app}", summary="The autoscaler's latest decisions for an app, newest first, with reasons")
def get_decisions(
    store: StoreDep,
    app: str,
    limit: Annotated[int, Query(ge=1, le=10000, description="Most decisions")] = 100,
) -> ScalingDecisionList:
    records = list_decisions(store, app, limit)
    return ScalingDecisionList(app=app, decisions=[ScalingDecision(**r.__dict__) for r in records])


@router.get(
    "/{app}/keda",
    summary="The forecast-derived value for KEDA's metrics-api scaler",
    responses={404: {"description": "No decision recorded for the app yet"}},
)
def get_keda_value(store: StoreDep, app: str) -> KedaMetric:
    records = list_decisions(store, app, 1)
    if not records:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no scaling decision recorded for {app!r}")
    value, stale = keda_value(records[0], datetime.now(UTC))
    return KedaMetric(value=value, decided_at=records[0].decided_at, stale=stale)


@router.post(
    "/{app}/decisions",
    status_code=status.HTTP_201_CREATED,
    summary="Record a decision (how `tsdev autoscale` in a cluster stores what it decided)",
)
def post_decision(store: StoreDep, app: str, decision: ScalingDecision) -> ScalingDecision:
    if decision.app != app:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"decision is for {decision.app!r}, not {app!r}")
    record_decisions(store, [DecisionRecord(**decision.model_dump())])
    return decision
