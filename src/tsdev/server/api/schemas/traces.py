"""Whole traces and trace search results."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tsdev.core.query import format_time
from tsdev.core.query.traces import Span as SpanData
from tsdev.core.query.traces import Trace as TraceData
from tsdev.core.query.traces import TraceSummary as SummaryData


class Event(BaseModel):
    time: str = Field(description="RFC 3339 with nanoseconds")
    time_unix_nano: int
    name: str
    attributes: dict[str, str]


class Link(BaseModel):
    trace_id: str
    span_id: str
    trace_state: str
    attributes: dict[str, str]


class Span(BaseModel):
    trace_id: str
    span_id: str
    parent_span_id: str = Field(description="Empty for a root span")
    trace_state: str
    name: str
    kind: str = Field(description="Server, Client, Internal, Producer, Consumer or Unspecified")
    service_name: str
    start_time: str = Field(description="RFC 3339 with nanoseconds")
    start_time_unix_nano: int
    duration_ns: int
    status_code: str = Field(description="Unset, Ok or Error")
    status_message: str
    scope_name: str
    scope_version: str
    resource_attributes: dict[str, str]
    attributes: dict[str, str]
    events: list[Event]
    links: list[Link]

    @classmethod
    def of(cls, span: SpanData) -> Span:
        return cls(
            trace_id=span.trace_id, span_id=span.span_id, parent_span_id=span.parent_span_id,
            trace_state=span.trace_state, name=span.name, kind=span.kind, service_name=span.service_name,
            start_time=format_time(span.start_ns), start_time_unix_nano=span.start_ns,
            duration_ns=span.duration_ns, status_code=span.status_code, status_message=span.status_message,
            scope_name=span.scope_name, scope_version=span.scope_version,
            resource_attributes=span.resource_attributes, attributes=span.attributes,
            events=[Event(time=format_time(e.time_ns), time_unix_nano=e.time_ns, name=e.name,
                          attributes=e.attributes) for e in span.events],
            links=[Link(trace_id=k.trace_id, span_id=k.span_id, trace_state=k.trace_state,
                        attributes=k.attributes) for k in span.links],
        )  # fmt: skip


class Trace(BaseModel):
    trace_id: str
    span_count: int
    truncated: bool = Field(description="True when the trace had more spans than one answer carries")
    spans: list[Span] = Field(description="In start order")

    @classmethod
    def of(cls, trace: TraceData) -> Trace:
        return cls(
            trace_id=trace.trace_id,
            span_count=len(trace.spans),
            truncated=trace.truncated,
            spans=[Span.of(span) for span in trace.spans],
        )


class TraceSummary(BaseModel):
    trace_id: str
    root_service: str = Field(description="Service of the root span (or of the earliest span)")
    root_operation: str
    start_time: str = Field(description="RFC 3339 with nanoseconds")
    start_time_unix_nano: int
    duration_ns: int = Field(description="From the first span's start to the last span's end")
    span_count: int
    error_count: int = Field(description="Spans with status Error")
    services: list[str] = Field(description="Every service with a span in the trace")

    @classmethod
    def of(cls, summary: SummaryData) -> TraceSummary:
        return cls(
            trace_id=summary.trace_id, root_service=summary.root_service,
            root_operation=summary.root_operation, start_time=format_time(summary.start_ns),
            start_time_unix_nano=summary.start_ns, duration_ns=summary.duration_ns,
            span_count=summary.span_count, error_count=summary.error_count, services=summary.services,
        )  # fmt: skip


class TraceSearchResult(BaseModel):
    traces: list[TraceSummary] = Field(description="Newest first")
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null on the last page")
