"""``/api/v1/metrics``: metric names and attributes, and aggregated series."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from tsdev.core.query import TimeRange, parse_attribute_filters, parse_duration
from tsdev.core.query import metrics as queries
from tsdev.server.api.deps import StoreDep
from tsdev.server.api.schemas.common import ERROR_RESPONSES, TIME_HELP, ErrorResponse
from tsdev.server.api.schemas.metrics import Metric, MetricList, Series, SeriesResult

router = APIRouter(prefix="/metrics", tags=["metrics"], responses=ERROR_RESPONSES)

Start = Annotated[str | None, Query(description=f"{TIME_HELP}; default end - 1h")]
End = Annotated[str | None, Query(description=f"{TIME_HELP}; default now")]


@router.get("", summary="Metric names seen in the range, with type, unit and attribute keys")
def list_metrics(
    store: StoreDep,
    start: Start = None,
    end: End = None,
    service: Annotated[str | None, Query(description="Only metrics of this service")] = None,
) -> MetricList:
    infos = queries.list_metrics(store, TimeRange.parse(start, end), service)
    return MetricList(metrics=[Metric.of(info) for info in infos])


@router.get(
    "/series",
    summary="Series of one metric at a step, aggregated and grouped by attributes",
    responses={404: {"model": ErrorResponse, "description": "No such metric in the range"}},
)
def metric_series(
    store: StoreDep,
    name: Annotated[str, Query(description="Metric name")],
    start: Start = None,
    end: End = None,
    step: Annotated[str, Query(description="Step between points: 10s, 1m, 1h")] = "1m",
    aggregation: Annotated[
        str,
        Query(
            description="sum, avg, min, max, count; rate (monotonic sums, per second); "
            "p50, p90, p95, p99 (histograms)"
        ),
    ] = "avg",
    group_by: Annotated[
        list[str], Query(description="Attribute key to group by (service.name for the service), repeatable")
    ] = [],  # noqa: B006
    service: Annotated[str | None, Query(description="Only points of this service")] = None,
    attr: Annotated[list[str], Query(description="Data point attribute equality key=value, repeatable")] = [],  # noqa: B006
) -> SeriesResult:
    query = queries.SeriesQuery(
        name=name,
        time_range=TimeRange.parse(start, end),
        step_ns=parse_duration(step, "step"),
        aggregation=aggregation,
        group_by=group_by,
        service=service,
        attributes=parse_attribute_filters(attr, "attr"),
    )
    try:
        series = queries.metric_series(store, query)
    except LookupError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    return SeriesResult(
        name=name,
        aggregation=aggregation,
        step_seconds=query.step_ns / 1e9,
        series=[Series.of(s) for s in series],
    )
