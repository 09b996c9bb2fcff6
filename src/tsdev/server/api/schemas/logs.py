"""Log records and log search results."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tsdev.core.query import format_time
from tsdev.core.query.logs import LogRecord as RecordData


class LogRecord(BaseModel):
    time: str = Field(description="RFC 3339 with nanoseconds")
    time_unix_nano: int
    severity_text: str
    severity_number: int = Field(description="OpenTelemetry severity number, 1 (trace) to 24 (fatal4)")
    service_name: str
    body: str
    trace_id: str = Field(description="The trace the record belongs to, empty when none")
    span_id: str
    attributes: dict[str, str]
    resource_attributes: dict[str, str]
    scope_name: str
    event_name: str

    @classmethod
    def of(cls, record: RecordData) -> LogRecord:
        return cls(
            time=format_time(record.time_ns), time_unix_nano=record.time_ns,
            severity_text=record.severity_text, severity_number=record.severity_number,
            service_name=record.service_name, body=record.body, trace_id=record.trace_id,
            span_id=record.span_id, attributes=record.attributes,
            resource_attributes=record.resource_attributes, scope_name=record.scope_name,
            event_name=record.event_name,
        )  # fmt: skip


class LogSearchResult(BaseModel):
    records: list[LogRecord] = Field(description="Newest first")
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null on the last page")
