"""Metric names and series."""

from __future__ import annotations

import math

from pydantic import BaseModel, Field

from tsdev.core.query import format_time
from tsdev.core.query.metrics import MetricInfo
from tsdev.core.query.metrics import Series as SeriesData


class Metric(BaseModel):
    name: str
    type: str = Field(description="gauge, sum, histogram, exp_histogram or summary")
    unit: str
    description: str
    services: list[str] = Field(description="Services that reported it in the range")
    attribute_keys: list[str] = Field(description="Data point attribute keys seen, usable in group_by")

    @classmethod
    def of(cls, info: MetricInfo) -> Metric:
        return cls(
            name=info.name, type=info.type, unit=info.unit, description=info.description,
            services=info.services, attribute_keys=info.attribute_keys,
        )  # fmt: skip


class MetricList(BaseModel):
    metrics: list[Metric]


class Point(BaseModel):
    time: str = Field(description="Start of the step, RFC 3339")
    time_unix_nano: int
    value: float | None = Field(description="null when the step has no value (an empty histogram)")


class Series(BaseModel):
    labels: dict[str, str] = Field(description="Values of the group_by attributes")
    points: list[Point]

    @classmethod
    def of(cls, series: SeriesData) -> Series:
        return cls(
            labels=series.labels,
            points=[
                Point(time=format_time(t), time_unix_nano=t, value=None if math.isnan(v) else v)
                for t, v in series.points
            ],
        )


class SeriesResult(BaseModel):
    name: str
    aggregation: str
    step_seconds: float
    series: list[Series]
