"""``/api/v1/services``: the RED table per service and per operation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tsdev.core.query import TimeRange, format_time
from tsdev.core.query import services as queries
from tsdev.server.api.deps import StoreDep
from tsdev.server.api.schemas.common import ERROR_RESPONSES, TIME_HELP
from tsdev.server.api.schemas.services import Operation, OperationList, Service, ServiceList

router = APIRouter(prefix="/services", tags=["services"], responses=ERROR_RESPONSES)

Start = Annotated[str | None, Query(description=f"Start of the range: {TIME_HELP}; default end - 1h")]
End = Annotated[str | None, Query(description=f"End of the range: {TIME_HELP}; default now")]


@router.get("", summary="Every service seen in the range, with rate, errors and latency of its server spans")
def list_services(store: StoreDep, start: Start = None, end: End = None) -> ServiceList:
    time_range = TimeRange.parse(start, end)
    stats = queries.list_services(store, time_range)
    return ServiceList(
        start=format_time(time_range.start_ns),
        end=format_time(time_range.end_ns),
        services=[Service.of_stats(s) for s in stats],
    )


@router.get("/{service}/operations", summary="Operations of a service with the same figures, per span kind")
def list_operations(
    store: StoreDep,
    service: str,
    start: Start = None,
    end: End = None,
    span_kind: Annotated[
        str | None, Query(description="Only this kind: Server, Client, Internal, Producer, Consumer")
    ] = None,
) -> OperationList:
    time_range = TimeRange.parse(start, end)
    stats = queries.list_operations(store, service, time_range, span_kind)
    return OperationList(
        service=service,
        start=format_time(time_range.start_ns),
        end=format_time(time_range.end_ns),
        operations=[Operation.of_stats(s) for s in stats],
    )
