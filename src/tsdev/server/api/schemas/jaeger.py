"""Jaeger query-service JSON, field for field (Jaeger's ``model/json`` and ``structuredResponse``).

Field names are Jaeger's camelCase on purpose: Grafana's Jaeger data source and the Jaeger UI parse
these bodies. Times and durations are integer microseconds. Spans are converted as Jaeger's own
OpenTelemetry translator does: the parent becomes a ``CHILD_OF`` reference and links ``FOLLOWS_FROM``;
events become logs whose first field is ``event``; kind and status become the ``span.kind``,
``otel.status_code``, ``otel.status_description`` and ``error`` tags; resource attributes other than
``service.name`` become the process tags.

Attributes are stored as text, so tag types are recovered from it: ``true``/``false`` are bools and
numbers that read back to the same text are ``int64``/``float64``; everything else is a string.
"""

from __future__ import annotations

import re
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from tsdev.core.query.traces import Span as SpanData
from tsdev.core.query.traces import Trace as TraceData

T = TypeVar("T")
TagValue = str | bool | int | float
TagType = Literal["string", "bool", "int64", "float64", "binary"]

_INT = re.compile(r"^-?(0|[1-9][0-9]{0,18})$")
_FLOAT = re.compile(r"^-?(0|[1-9][0-9]*)\.[0-9]*[1-9]$")


class JaegerError(BaseModel):
    code: int
    msg: str


class Envelope(BaseModel, Generic[T]):
    """Jaeger's ``structuredResponse``. As in Jaeger, ``total`` counts the items of the services and
    operations lists and stays 0 on trace and dependency answers."""

    data: T
    total: int = 0
    limit: int = 0
    offset: int = 0
    errors: list[JaegerError] | None = None


class KeyValue(BaseModel):
    key: str
    type: TagType
    value: TagValue


class Reference(BaseModel):
    refType: Literal["CHILD_OF", "FOLLOWS_FROM"]  # noqa: N815
    traceID: str  # noqa: N815
    spanID: str  # noqa: N815


class Log(BaseModel):
    timestamp: int = Field(description="Microseconds since the epoch")
    fields: list[KeyValue]


class Process(BaseModel):
    serviceName: str  # noqa: N815
    tags: list[KeyValue]


class Span(BaseModel):
    traceID: str  # noqa: N815
    spanID: str  # noqa: N815
    flags: int = 1
    operationName: str  # noqa: N815
    references: list[Reference]
    startTime: int = Field(description="Microseconds since the epoch")  # noqa: N815
    duration: int = Field(description="Microseconds")
    tags: list[KeyValue]
    logs: list[Log]
    processID: str  # noqa: N815
    warnings: list[str] | None = None


class Trace(BaseModel):
    traceID: str  # noqa: N815
    spans: list[Span]
    processes: dict[str, Process]
    warnings: list[str] | None = None


class Operation(BaseModel):
    name: str
    spanKind: str = Field(description="server, client, internal, producer, consumer, or empty")  # noqa: N815


class DependencyLink(BaseModel):
    parent: str
    child: str
    callCount: int  # noqa: N815


def typed(key: str, text: str) -> KeyValue:
    """A tag with its type recovered from the stored text."""
    if text in ("true", "false"):
        return KeyValue(key=key, type="bool", value=text == "true")
    if _INT.match(text):
        return KeyValue(key=key, type="int64", value=int(text))
    if _FLOAT.match(text):
        return KeyValue(key=key, type="float64", value=float(text))
    return KeyValue(key=key, type="string", value=text)


def _tags(attributes: dict[str, str]) -> list[KeyValue]:
    return [typed(key, value) for key, value in sorted(attributes.items())]


def _span_tags(span: SpanData) -> list[KeyValue]:
    tags = _tags(span.attributes)
    if span.scope_name:
        tags.append(KeyValue(key="otel.scope.name", type="string", value=span.scope_name))
    if span.scope_version:
        tags.append(KeyValue(key="otel.scope.version", type="string", value=span.scope_version))
    if span.kind not in ("", "Unspecified"):
        tags.append(KeyValue(key="span.kind", type="string", value=span.kind.lower()))
    if span.status_code in ("Ok", "Error"):
        tags.append(KeyValue(key="otel.status_code", type="string", value=span.status_code.upper()))
    if span.status_message:
        tags.append(KeyValue(key="otel.status_description", type="string", value=span.status_message))
    if span.status_code == "Error":
        tags.append(KeyValue(key="error", type="bool", value=True))
    return tags


def _references(span: SpanData) -> list[Reference]:
    references = []
    if span.parent_span_id:
        references.append(Reference(refType="CHILD_OF", traceID=span.trace_id, spanID=span.parent_span_id))
    references += [
        Reference(refType="FOLLOWS_FROM", traceID=k.trace_id, spanID=k.span_id) for k in span.links
    ]
    return references


def _logs(span: SpanData) -> list[Log]:
    return [
        Log(
            timestamp=event.time_ns // 1000,
            fields=[KeyValue(key="event", type="string", value=event.name), *_tags(event.attributes)],
        )
        for event in span.events
    ]


def to_jaeger(trace: TraceData) -> Trace:
    processes: dict[str, Process] = {}
    process_ids: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
    spans = []
    for span in trace.spans:
        resource = tuple(sorted((k, v) for k, v in span.resource_attributes.items() if k != "service.name"))
        key = (span.service_name, resource)
        if key not in process_ids:
            process_ids[key] = f"p{len(process_ids) + 1}"
            processes[process_ids[key]] = Process(serviceName=span.service_name, tags=_tags(dict(resource)))
        spans.append(
            Span(
                traceID=span.trace_id,
                spanID=span.span_id,
                operationName=span.name,
                references=_references(span),
                startTime=span.start_ns // 1000,
                duration=span.duration_ns // 1000,
                tags=_span_tags(span),
                logs=_logs(span),
                processID=process_ids[key],
            )
        )
    warnings = [f"trace cut at {len(trace.spans)} spans"] if trace.truncated else None
    return Trace(traceID=trace.trace_id, spans=spans, processes=processes, warnings=warnings)
