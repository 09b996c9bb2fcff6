"""Services and operations with rate, errors and duration figures."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tsdev.core.query.services import OperationStats, RedFigures, ServiceStats


class Red(BaseModel):
    """Request rate, errors and duration quantiles over the time range."""

    requests: int = Field(description="Spans counted (server spans for a service)")
    errors: int = Field(description="Of which with status Error")
    error_rate: float = Field(description="errors / requests, 0 when there were no requests")
    p50_ms: float = Field(description="Median duration in milliseconds (t-digest estimate)")
    p95_ms: float = Field(description="95th percentile duration in milliseconds")
    p99_ms: float = Field(description="99th percentile duration in milliseconds")

    @classmethod
    def of(cls, red: RedFigures) -> Red:
        return cls(
            requests=red.requests,
            errors=red.errors,
            error_rate=red.error_rate,
            p50_ms=red.p50_ns / 1e6,
            p95_ms=red.p95_ns / 1e6,
            p99_ms=red.p99_ns / 1e6,
        )


class Service(Red):
    name: str = Field(description="service.name of the resource")

    @classmethod
    def of_stats(cls, stats: ServiceStats) -> Service:
        return cls(name=stats.name, **Red.of(stats.red).model_dump())


class Operation(Red):
    name: str = Field(description="Span name")
    span_kind: str = Field(description="Server, Client, Internal, Producer, Consumer or Unspecified")

    @classmethod
    def of_stats(cls, stats: OperationStats) -> Operation:
        return cls(name=stats.name, span_kind=stats.span_kind, **Red.of(stats.red).model_dump())


class ServiceList(BaseModel):
    start: str = Field(description="Start of the range, RFC 3339")
    end: str = Field(description="End of the range, RFC 3339")
    services: list[Service]


class OperationList(BaseModel):
    service: str
    start: str
    end: str
    operations: list[Operation]
