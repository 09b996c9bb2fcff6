"""Property-based tests of the decoders and the store path: arbitrary bytes and mutated valid
requests never crash anything (they decode or are refused as a bad request), and every request that
decodes can be stored."""

from __future__ import annotations

import contextlib
import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs, SeverityNumber
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from tests.support.rows import fetch
from tsdev.ingest.decode.batch import MAX_TIMESTAMP_NS
from tsdev.ingest.signals import LOGS, SIGNALS, TRACES, BadRequest

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.text(max_size=50).map(lambda s: AnyValue(string_value=s)),
    st.booleans().map(lambda b: AnyValue(bool_value=b)),
    st.integers(-(2**63), 2**63 - 1).map(lambda i: AnyValue(int_value=i)),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: AnyValue(double_value=f)),
    st.binary(max_size=20).map(lambda b: AnyValue(bytes_value=b)),
    st.just(AnyValue()),
)
any_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda vs: AnyValue(array_value=ArrayValue(values=vs))),
        st.lists(st.tuples(st.text(max_size=10), inner), max_size=4).map(
            lambda kvs: AnyValue(kvlist_value=KeyValueList(values=[KeyValue(key=k, value=v) for k, v in kvs]))
        ),
    ),
    max_leaves=12,
)
attributes = st.lists(st.tuples(st.text(max_size=20), any_values), max_size=6).map(
    lambda kvs: [KeyValue(key=k, value=v) for k, v in kvs]
)
times = st.one_of(st.just(0), st.just(2**64 - 1), st.integers(0, 2**64 - 1))
ids16 = st.one_of(st.binary(min_size=16, max_size=16), st.binary(max_size=20))
ids8 = st.one_of(st.binary(min_size=8, max_size=8), st.binary(max_size=10))


@st.composite
def trace_requests(draw: st.DrawFn) -> ExportTraceServiceRequest:
    spans = [
        Span(
            trace_id=draw(ids16),
            span_id=draw(ids8),
            parent_span_id=draw(ids8),
            name=draw(st.text(max_size=30)),
            kind=Span.SpanKind.ValueType(draw(st.integers(0, 9))),
            start_time_unix_nano=draw(times),
            end_time_unix_nano=draw(times),
            attributes=draw(attributes),
        )
        for _ in range(draw(st.integers(1, 4)))
    ]
    resource = Resource(attributes=draw(attributes))
    return ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(resource=resource, scope_spans=[ScopeSpans(spans=spans)])]
    )


@st.composite
def log_requests(draw: st.DrawFn) -> ExportLogsServiceRequest:
    records = [
        LogRecord(
            time_unix_nano=draw(times),
            observed_time_unix_nano=draw(times),
            body=draw(any_values),
            severity_number=SeverityNumber.ValueType(draw(st.integers(0, 24))),
            trace_id=draw(ids16),
            span_id=draw(ids8),
            attributes=draw(attributes),
            flags=draw(st.integers(0, 2**32 - 1)),
        )
        for _ in range(draw(st.integers(1, 4)))
    ]
    return ExportLogsServiceRequest(
        resource_logs=[ResourceLogs(resource=Resource(), scope_logs=[ScopeLogs(log_records=records)])]
    )


@FAST
@given(body=st.binary(max_size=400), signal=st.sampled_from(sorted(SIGNALS)), json_body=st.booleans())
def test_arbitrary_bytes_decode_or_are_a_bad_request(body: bytes, signal: str, json_body: bool) -> None:
    try:
        decoded = SIGNALS[signal].decode(body, json_body=json_body)
    except BadRequest:
        return
    assert decoded.accepted + decoded.rejected >= 0
    for rows in decoded.rows:
        rows.to_arrow()


@FAST
@given(request=trace_requests(), cut=st.integers(0, 64), flip=st.integers(0, 255))
def test_mutated_valid_requests_decode_or_are_a_bad_request(
    request: ExportTraceServiceRequest, cut: int, flip: int
) -> None:
    body = bytearray(request.SerializeToString())
    if body:
        body[cut % len(body)] ^= flip
    del body[len(body) - cut % (len(body) + 1) :]
    with contextlib.suppress(BadRequest):
        TRACES.decode(bytes(body), json_body=False)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
otlp_keys = st.sampled_from(
    [
        "resourceSpans",
        "scopeSpans",
        "spans",
        "traceId",
        "spanId",
        "name",
        "attributes",
        "kind",
        "startTimeUnixNano",
        "value",
        "stringValue",
        "intValue",
        "arrayValue",
    ]
)


@FAST
@given(document=st.dictionaries(otlp_keys, json_values, max_size=4))
def test_arbitrary_json_decodes_or_is_a_bad_request(document: dict[str, object]) -> None:
    with contextlib.suppress(BadRequest):
        TRACES.decode(json.dumps(document).encode(), json_body=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(traces=trace_requests(), logs=log_requests())
def test_everything_that_decodes_can_be_stored(fresh_store, traces, logs) -> None:
    for signal, request in ((TRACES, traces), (LOGS, logs)):
        decoded = signal.decode(request.SerializeToString(), json_body=False)
        for rows in decoded.rows:
            fresh_store.insert_arrow(rows.table, rows.to_arrow())


def test_extremes_have_defined_results(fresh_store) -> None:
    nested = AnyValue(string_value="leaf")
    for _ in range(40):  # deeper than tsdev keeps (32), shallower than the protobuf parser's limit
        nested = AnyValue(array_value=ArrayValue(values=[nested]))
    span = Span(
        trace_id=b"\x01" * 16,
        span_id=b"\x02" * 8,
        name="extremes",
        start_time_unix_nano=0,
        end_time_unix_nano=2**64 - 1,
        attributes=[
            KeyValue(key="nan", value=AnyValue(double_value=math.nan)),
            KeyValue(key="inf", value=AnyValue(double_value=-math.inf)),
            KeyValue(key="long", value=AnyValue(string_value="x" * 1_000_000)),
            KeyValue(key="deep", value=nested),
            *[KeyValue(key=f"a{n}", value=AnyValue(int_value=n)) for n in range(5000)],
        ],
    )
    request = ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])]
    )
    decoded = TRACES.decode(request.SerializeToString(), json_body=False)
    for rows in decoded.rows:
        fresh_store.insert_arrow(rows.table, rows.to_arrow())
    (row,) = fetch(fresh_store, "otel_traces")
    assert row["ServiceName"] == "unknown_service"
    assert row["Timestamp"] == 0
    assert row["Duration"] == MAX_TIMESTAMP_NS
    attributes_stored = row["SpanAttributes"]
    assert (attributes_stored["nan"], attributes_stored["inf"]) == ("NaN", "-Inf")
    assert len(attributes_stored["long"]) == 1_000_000
    assert "[truncated: nested too deeply]" in attributes_stored["deep"]
    assert len(attributes_stored) == 5004


def test_nesting_past_the_protobuf_parser_limit_is_a_bad_request() -> None:
    leaf = AnyValue(string_value="leaf").SerializeToString()
    body = leaf
    for _ in range(60):  # built as bytes: AnyValue{kvlist_value{values{key, value}}}
        key_value = b"\x0a\x01k" + b"\x12" + _varint(len(body)) + body
        kvlist = b"\x0a" + _varint(len(key_value)) + key_value
        body = b"\x32" + _varint(len(kvlist)) + kvlist
    attribute = b"\x0a\x04deep\x12" + _varint(len(body)) + body
    span = (
        Span(trace_id=b"\x01" * 16, span_id=b"\x02" * 8).SerializeToString()
        + b"\x4a"
        + _varint(len(attribute))
        + attribute
    )
    scope_spans = b"\x12" + _varint(len(span)) + span
    resource_spans = b"\x12" + _varint(len(scope_spans)) + scope_spans
    request = b"\x0a" + _varint(len(resource_spans)) + resource_spans
    with pytest.raises(BadRequest, match="MaxDepth"):
        TRACES.decode(request, json_body=False)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def test_invalid_utf8_in_a_string_field_is_a_bad_request() -> None:
    valid = ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                scope_spans=[ScopeSpans(spans=[Span(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="abc")])]
            )
        ]
    ).SerializeToString()
    broken = valid.replace(b"abc", b"a\xffc")
    with pytest.raises(BadRequest):
        TRACES.decode(broken, json_body=False)
