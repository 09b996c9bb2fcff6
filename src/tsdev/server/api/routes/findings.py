"""``/api/v1/findings`` (what the analysis found, and people's decisions on it) and
``/api/v1/analyze`` (a pass now, outside the schedule)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from tsdev.analysis.findings import FindingKind
from tsdev.analysis.jobs import Status, Window, analyze_range, repository
from tsdev.core.query import TimeRange, parse_duration
from tsdev.server.api.deps import StoreDep
from tsdev.server.api.schemas.common import ERROR_RESPONSES, ErrorResponse
from tsdev.server.api.schemas.findings import (
    AnalyzeRequest,
    AnalyzeResult,
    FindingDetail,
    FindingList,
    FindingSummary,
    StatusChange,
)

router = APIRouter(tags=["findings"], responses=ERROR_RESPONSES)

_NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorResponse, "description": "No finding has this id"}
}


@router.get("/findings", summary="Findings, largest estimated saving first")
def list_findings(
    store: StoreDep,
    kind: Annotated[FindingKind | None, Query(description="Only this kind")] = None,
    service: Annotated[str | None, Query(description="Only this service")] = None,
    status_: Annotated[Status | None, Query(alias="status", description="Only this status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> FindingList:
    records = repository.search(store, kind=kind, service=service, status=status_, limit=limit)
    return FindingList(findings=[FindingSummary.of(r) for r in records])


@router.get("/findings/{finding_id}", summary="One finding with its full evidence", responses=_NOT_FOUND)
def get_finding(store: StoreDep, finding_id: str) -> FindingDetail:
    record = repository.get(store, finding_id)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"finding {finding_id} not found")
    return FindingDetail.of(record)


def _set_status(store: StoreDep, finding_id: str, change: StatusChange) -> FindingDetail:
    record = repository.change_status(store, finding_id, change.status)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"finding {finding_id} not found")
    return FindingDetail.of(record)


router.add_api_route(
    "/findings/{finding_id}", _set_status, methods=["PATCH"], summary="Set open, acknowledged or ignored",
    responses=_NOT_FOUND, response_model=FindingDetail,
)  # fmt: skip
router.add_api_route(
    "/findings/{finding_id}/status", _set_status, methods=["POST"], responses=_NOT_FOUND,
    summary="Set open, acknowledged or ignored (for clients without PATCH)", response_model=FindingDetail,
)  # fmt: skip


@router.post("/analyze", summary="Run the detectors over a window now and store what they find")
def analyze(store: StoreDep, request: AnalyzeRequest | None = None) -> AnalyzeResult:
    """Outside the schedule, and without moving its watermark: passes over hours the schedule has
    covered do not count their traffic twice (see the finding records' counting rule)."""
    request = request or AnalyzeRequest()
    window = TimeRange.parse(request.start, request.end)
    if request.since and not request.start:
        window = TimeRange.checked(
            window.end_ns - parse_duration(request.since, "since"), window.end_ns, "since"
        )
    return AnalyzeResult.of(analyze_range(store, Window(window.start_ns, window.end_ns)))
