"""The engine path (ClickHouse flattening OTLP/protobuf trace requests itself) stores exactly what
tsdev's Python decoder stores, and hands it every request it could not render identically."""

from __future__ import annotations

import math
import re
import tempfile
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs, SeverityNumber
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from tests.ingest.test_hostile_input import log_requests, scalars, trace_requests
from tests.support.rows import example, fetch
from tsdev.core.store import Store, tables
from tsdev.core.store.client import Retention
from tsdev.ingest.decode.logs import LOGS_SCHEMA
from tsdev.ingest.decode.otlp_json import parse_json
from tsdev.ingest.decode.traces import TRACES_SCHEMA
from tsdev.ingest.engine import CheckFirst, EngineRows, commit_in_engine
from tsdev.ingest.engine import rows as engine_rows
from tsdev.ingest.engine.logs import LOGS as ENGINE_LOGS
from tsdev.ingest.engine.sql import SCHEMA_FILE
from tsdev.ingest.engine.traces import TRACES as ENGINE_TRACES
from tsdev.ingest.signals import LOGS, TRACES, Signal

UNKNOWN_STATUS = Status.StatusCode.ValueType(7)
TOO_SEVERE = SeverityNumber.ValueType(300)


@pytest.fixture
def python_store(embedded_store: Store) -> Iterator[Store]:
    """A second empty database, filled by the Python decoder for comparison."""
    database = f"t_{uuid.uuid4().hex[:12]}"
    store = embedded_store.with_database(database)
    store.migrate(Retention(traces_days=0, logs_days=0, metrics_days=0))
    yield store
    store.command(f"DROP DATABASE IF EXISTS {database}")


def _store_both_ways(
    engine_store: Store,
    python_store: Store,
    bodies: list[bytes],
    signal: Signal = TRACES,
    *,
    check_first: bool = False,
) -> list[EngineRows]:
    batch: list[EngineRows] = []
    for body in bodies:
        (rows,) = signal.decode_for_engine(body).engine_rows
        batch.append(rows)
    plan = CheckFirst()
    if check_first:
        plan.unchecked_failed(batch[0].table)
    for left in commit_in_engine(engine_store, batch[0].table, batch, plan):
        engine_store.insert_arrow(left.table, left.to_arrow())
    for body in bodies:
        for table_rows in signal.decode(body, json_body=False).rows:
            python_store.insert_arrow(table_rows.table, table_rows.to_arrow())
    return batch


def _rows(store: Store, table: str = tables.TRACES) -> list[dict[str, Any]]:
    """Every row of ``table``, sorted on all columns (records may differ only in, say, their flags)."""
    return sorted(fetch(store, table), key=repr)


def _kv(key: str, **value: Any) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


def _span(n: int, **fields: Any) -> Span:
    base: dict[str, Any] = {
        "trace_id": bytes([n + 1]) * 16,
        "span_id": bytes([n + 1]) * 8,
        "name": f"span {n}",
        "start_time_unix_nano": 1_700_000_000_000_000_000 + n,
        "end_time_unix_nano": 1_700_000_000_500_000_000 + n,
    }
    base.update(fields)
    return Span(**base)


def _request(spans: list[Span], resource: list[KeyValue] | None = None) -> bytes:
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(
                    attributes=resource
                    if resource is not None
                    else [_kv("service.name", string_value="shop")]
                ),
                scope_spans=[ScopeSpans(scope=InstrumentationScope(name="lib", version="2.1"), spans=spans)],
            )
        ]
    ).SerializeToString()


def test_everyday_and_extreme_scalar_requests_are_stored_by_the_engine_identically(
    fresh_store: Store, python_store: Store
) -> None:
    example_request = parse_json(example("trace.json"), ExportTraceServiceRequest()).SerializeToString()
    doubles = [0.1, -0.0, 1e21, -3.5e-9, 1e-6, 123456789.25, math.nan, math.inf, -math.inf, 5e-324, 1.7e308]
    extreme = _request(
        [
            _span(
                0,
                kind=Span.SpanKind.SPAN_KIND_SERVER,
                parent_span_id=b"",
                trace_state="a=b",
                attributes=[_kv(f"d{i}", double_value=d) for i, d in enumerate(doubles)]
                + [
                    _kv("s", string_value='naïve ✓ "quoted" \\ \n tab\t'),
                    _kv("i", int_value=-(2**63)),
                    _kv("b", bool_value=True),
                    _kv("raw", bytes_value=b"\x00\xffbytes"),
                    _kv("empty"),
                ],
                status=Status(code=Status.StatusCode.STATUS_CODE_ERROR, message="boom"),
            ),
            _span(1, kind=9, start_time_unix_nano=0, end_time_unix_nano=2**64 - 1, parent_span_id=bytes(8)),
            _span(
                2,
                start_time_unix_nano=5,
                end_time_unix_nano=3,
                status=Status(code=Status.StatusCode.ValueType(7)),
            ),
            _span(
                3,
                parent_span_id=b"\x01" * 8,
                events=[
                    Span.Event(time_unix_nano=2**64 - 1, name="e1", attributes=[_kv("k", int_value=3)]),
                    Span.Event(time_unix_nano=10, name="e2"),
                ],
                links=[
                    Span.Link(
                        trace_id=b"\x09" * 16,
                        span_id=b"\x08" * 8,
                        trace_state="x=y",
                        attributes=[_kv("link", double_value=2.5)],
                    )
                ],
            ),
        ]
    )
    no_service = _request([_span(4)], resource=[_kv("host.name", string_value="h1")])
    empty_service = _request([_span(5)], resource=[_kv("service.name", string_value="")])
    numeric_service = _request([_span(6)], resource=[_kv("service.name", int_value=42)])
    batch = _store_both_ways(
        fresh_store, python_store, [example_request, extreme, no_service, empty_service, numeric_service]
    )
    assert [rows.decoded for rows in batch] == [None] * len(batch), "all of these are the engine's to store"
    stored = _rows(fresh_store)
    assert len(stored) == 1 + 4 + 3
    assert stored == _rows(python_store)
    services = {row["ServiceName"] for row in stored}
    assert {"unknown_service", "42", "shop", "my.service"} <= services


@pytest.mark.parametrize(
    ("span", "reason"),
    [
        (_span(0, attributes=[_kv("list", array_value=ArrayValue(values=[AnyValue(int_value=1)]))]), "array"),
        (
            _span(0, attributes=[_kv("map", kvlist_value=KeyValueList(values=[_kv("a", bool_value=False)]))]),
            "key-value list",
        ),
        (
            _span(0, attributes=[_kv("k", string_value="first"), _kv("k", string_value="last")]),
            "repeated key",
        ),
        (_span(0, trace_id=bytes(16)), "all-zero trace id"),
        (_span(0, span_id=b"\x01" * 7), "short span id"),
        (_span(0, parent_span_id=b"\x01" * 3), "short parent id"),
        (_span(0, links=[Span.Link(trace_id=b"\x01" * 16, span_id=b"")]), "link without span id"),
        (
            _span(0, events=[Span.Event(name="e", attributes=[_kv("a", array_value=ArrayValue())])]),
            "array in an event",
        ),
    ],
)
@pytest.mark.parametrize("check_first", [False, True], ids=["unchecked insert first", "check first"])
def test_requests_the_engine_cannot_render_take_the_python_path(
    fresh_store: Store, python_store: Store, span: Span, reason: str, check_first: bool
) -> None:
    plain = _request([_span(5)])
    odd = _request([span, _span(6)])
    batch = _store_both_ways(fresh_store, python_store, [plain, odd], check_first=check_first)
    assert batch[0].decoded is None, "a plain request in the same batch stays on the engine path"
    odd_result = batch[1].decoded
    assert odd_result is not None, reason
    assert odd_result.accepted + odd_result.rejected == 2
    assert _rows(fresh_store) == _rows(python_store)


def test_each_request_of_a_batch_spread_over_several_files_keeps_its_own_verdict(
    fresh_store: Store, python_store: Store
) -> None:
    # A batch is handed over as one file per engine thread; the check's verdicts must find their
    # requests again across the files, wherever the odd ones sit.
    odd_span = _span(0, attributes=[_kv("a", array_value=ArrayValue())])
    bodies = [_request([odd_span if n in (1, 3, 6) else _span(n)]) for n in range(7)]
    batch = _store_both_ways(fresh_store, python_store, bodies)
    assert [rows.decoded is not None for rows in batch] == [n in (1, 3, 6) for n in range(7)]
    assert _rows(fresh_store) == _rows(python_store)
    assert len(_rows(fresh_store)) == 7


@pytest.mark.parametrize("odd_at", [0, 13, 23])
def test_a_batch_with_one_request_the_engine_cannot_render_is_stored_once(
    fresh_store: Store, python_store: Store, odd_at: int
) -> None:
    # The unchecked insert reads thousands of spans before it meets the odd request, wherever it
    # sits; it must store none of them, or the checked insert after it would store them twice.
    odd_span = _span(0, attributes=[_kv("a", kvlist_value=KeyValueList())])
    bodies = [
        _request(
            [odd_span]
            if n == odd_at
            else [_span(k % 200, span_id=(n * 1000 + k + 1).to_bytes(8)) for k in range(1000)]
        )
        for n in range(24)
    ]
    batch = _store_both_ways(fresh_store, python_store, bodies)
    assert [rows.decoded is not None for rows in batch] == [n == odd_at for n in range(24)]
    stored = fresh_store.query_rows(
        f"SELECT count(), uniqExact(SpanId) FROM {fresh_store.table(tables.TRACES)}"
    )
    assert stored == [(23_001, 23_001)]
    summaries = "SELECT sum(SpanCount) FROM {}"
    engine_summary = fresh_store.query_rows(summaries.format(fresh_store.table(tables.TRACE_SUMMARY)))
    assert engine_summary == python_store.query_rows(
        summaries.format(python_store.table(tables.TRACE_SUMMARY))
    )
    assert engine_summary == [(23_001,)]


def test_requests_are_decoded_in_python_when_they_cannot_be_handed_to_the_engine(
    fresh_store: Store, python_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*args: Any, **kwargs: Any) -> Any:
        raise OSError(28, "No space left on device")

    # Only the engine path's hand-over directory fails; the driver's own temporary files still work.
    monkeypatch.setattr(tempfile, "mkdtemp", disk_full)
    batch = _store_both_ways(fresh_store, python_store, [_request([_span(1)]), _request([_span(2)])])
    assert all(rows.decoded is not None for rows in batch)
    stored = _rows(fresh_store)
    assert len(stored) == 2
    assert stored == _rows(python_store)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(requests=st.lists(trace_requests(), min_size=1, max_size=3))
def test_any_valid_request_is_stored_as_the_python_decoder_stores_it(
    fresh_store: Store, python_store: Store, requests: list[ExportTraceServiceRequest]
) -> None:
    for store in (fresh_store, python_store):
        store.command(f"TRUNCATE TABLE {store.table(tables.TRACES)}")
    _store_both_ways(fresh_store, python_store, [request.SerializeToString() for request in requests])
    assert _rows(fresh_store) == _rows(python_store)


scalar_attributes = st.lists(
    st.tuples(st.text(max_size=12), scalars), max_size=6, unique_by=lambda kv: kv[0]
).map(lambda kvs: [KeyValue(key=k, value=v) for k, v in kvs])


@st.composite
def flat_spans(draw: st.DrawFn) -> Span:
    return Span(
        trace_id=draw(st.binary(min_size=16, max_size=16).filter(any)),
        span_id=draw(st.binary(min_size=8, max_size=8).filter(any)),
        parent_span_id=draw(st.one_of(st.just(b""), st.binary(min_size=8, max_size=8))),
        name=draw(st.text(max_size=20)),
        kind=Span.SpanKind.ValueType(draw(st.integers(0, 7))),
        start_time_unix_nano=draw(st.integers(0, 2**64 - 1)),
        end_time_unix_nano=draw(st.integers(0, 2**64 - 1)),
        attributes=draw(scalar_attributes),
        events=[
            Span.Event(
                time_unix_nano=draw(st.integers(0, 2**64 - 1)), name=name, attributes=draw(scalar_attributes)
            )
            for name in draw(st.lists(st.text(max_size=5), max_size=2))
        ],
        status=Status(
            code=Status.StatusCode.ValueType(draw(st.integers(0, 4))), message=draw(st.text(max_size=8))
        ),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(spans=st.lists(flat_spans(), min_size=1, max_size=5), resource=scalar_attributes)
def test_any_flat_request_is_stored_by_the_engine_as_the_python_decoder_stores_it(
    fresh_store: Store, python_store: Store, spans: list[Span], resource: list[KeyValue]
) -> None:
    for store in (fresh_store, python_store):
        store.command(f"TRUNCATE TABLE {store.table(tables.TRACES)}")
    batch = _store_both_ways(fresh_store, python_store, [_request(spans, resource)])
    assert batch[0].decoded is None
    assert _rows(fresh_store) == _rows(python_store)


def test_the_engine_fills_the_columns_the_decoder_fills() -> None:
    assert list(ENGINE_TRACES.columns) == TRACES_SCHEMA.names
    assert list(ENGINE_LOGS.columns) == LOGS_SCHEMA.names


_FIELD = re.compile(r"^\s*(?:repeated\s+)?(\w+)\s+(\w+)\s*=\s*(\d+);", re.MULTILINE)
_MESSAGE = re.compile(r"^message (\w+) \{(.*?)^\}", re.MULTILINE | re.DOTALL)
# Wire-compatible declarations: embedded messages may be read as bytes, enums as int32.
_COMPATIBLE = {"bytes": {"bytes", "ArrayValue", "KeyValueList"}, "int32": {"int32", "enum"}}


def test_the_schema_subset_matches_opentelemetry_proto() -> None:
    otlp = {
        descriptor.name: descriptor
        for module in (trace_service_pb2, logs_service_pb2)
        for descriptor in _all_messages(module.DESCRIPTOR.message_types_by_name.values())
    }
    text = SCHEMA_FILE.read_text()
    messages = _MESSAGE.findall(text)
    assert len(messages) >= 10
    for name, body in messages:
        descriptor = otlp[name]
        for type_name, field_name, number in _FIELD.findall(body):
            field = descriptor.fields_by_name[field_name]
            assert field.number == int(number), f"{name}.{field_name}"
            otlp_type = _type_name(field)
            expected = _COMPATIBLE.get(type_name, {type_name})
            assert otlp_type in expected, f"{name}.{field_name}: {otlp_type}"
            assert field.is_repeated == (f"repeated {type_name} {field_name}" in body)


def _all_messages(descriptors: Any) -> Iterator[Any]:
    seen: set[str] = set()
    stack = list(descriptors)
    while stack:
        descriptor = stack.pop()
        if descriptor.full_name in seen:
            continue
        seen.add(descriptor.full_name)
        yield descriptor
        stack.extend(field.message_type for field in descriptor.fields if field.message_type is not None)


def _type_name(field: Any) -> str:
    if field.message_type is not None:
        return str(field.message_type.name)
    if field.enum_type is not None:
        return "enum"
    names = {
        field.TYPE_STRING: "string", field.TYPE_BYTES: "bytes", field.TYPE_BOOL: "bool",
        field.TYPE_INT64: "int64", field.TYPE_DOUBLE: "double", field.TYPE_FIXED64: "fixed64",
        field.TYPE_INT32: "int32", field.TYPE_FIXED32: "fixed32", field.TYPE_UINT32: "uint32",
    }  # fmt: skip
    return names[field.type]


def _log_request(records: list[LogRecord], resource: list[KeyValue] | None = None, **scope: Any) -> bytes:
    return ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=Resource(attributes=resource or []),
                schema_url="https://opentelemetry.io/schemas/1.26.0",
                scope_logs=[
                    ScopeLogs(scope=InstrumentationScope(**scope), schema_url="s", log_records=records)
                ],
            )
        ]
    ).SerializeToString()


def test_log_requests_are_stored_by_the_engine_identically(fresh_store: Store, python_store: Store) -> None:
    example_request = parse_json(example("logs.json"), ExportLogsServiceRequest()).SerializeToString()
    records = [
        LogRecord(
            time_unix_nano=1_700_000_000_000_000_000,
            severity_number=SeverityNumber.ValueType(9),
            severity_text="INFO",
            body=AnyValue(string_value="order 17 took 42 ms"),
            attributes=[_kv("thread.id", int_value=3), _kv("ratio", double_value=1e21)],
            trace_id=b"\x01" * 16,
            span_id=b"\x02" * 8,
            flags=0x1FF,
            event_name="checkout",
        ),
        LogRecord(observed_time_unix_nano=1_700_000_000_000_000_123, body=AnyValue(int_value=7)),
        LogRecord(
            time_unix_nano=2**64 - 1,
            severity_number=SeverityNumber.ValueType(300),
            body=AnyValue(double_value=math.nan),
        ),
        LogRecord(body=AnyValue(bytes_value=b"\xff\x00"), trace_id=bytes(16), span_id=bytes(8)),
        LogRecord(severity_number=SeverityNumber.ValueType(-4), body=AnyValue(bool_value=False)),
    ]
    ours = _log_request(
        records,
        [_kv("service.name", string_value="shop"), _kv("host", string_value="h")],
        name="lib",
        version="1",
        attributes=[_kv("scope.attr", string_value="x")],
    )
    batch = _store_both_ways(fresh_store, python_store, [example_request, ours], LOGS)
    # The published example carries an array and a key-value list attribute: Python renders those.
    assert batch[0].decoded is not None
    assert batch[1].decoded is None
    stored = _rows(fresh_store, tables.LOGS)
    assert len(stored) == len(records) + 1
    assert stored == _rows(python_store, tables.LOGS)


@pytest.mark.parametrize(
    ("record", "scope_attributes"),
    [
        (LogRecord(body=AnyValue(kvlist_value=KeyValueList(values=[_kv("a", int_value=1)]))), []),
        (LogRecord(body=AnyValue(string_value="x"), trace_id=b"\x01" * 5), []),
        (LogRecord(body=AnyValue(string_value="x"), span_id=b"\x01" * 9), []),
        (LogRecord(attributes=[_kv("k", int_value=1), _kv("k", int_value=2)]), []),
        (LogRecord(), [_kv("list", array_value=ArrayValue(values=[AnyValue(bool_value=True)]))]),
    ],
)
def test_log_requests_the_engine_cannot_render_take_the_python_path(
    fresh_store: Store, python_store: Store, record: LogRecord, scope_attributes: list[KeyValue]
) -> None:
    plain = _log_request([LogRecord(body=AnyValue(string_value="plain"))])
    odd = _log_request([record, LogRecord(body=AnyValue(string_value="beside"))], attributes=scope_attributes)
    batch = _store_both_ways(fresh_store, python_store, [plain, odd], LOGS)
    assert batch[0].decoded is None
    assert batch[1].decoded is not None
    assert _rows(fresh_store, tables.LOGS) == _rows(python_store, tables.LOGS)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(requests=st.lists(log_requests(), min_size=1, max_size=3))
def test_any_valid_log_request_is_stored_as_the_python_decoder_stores_it(
    fresh_store: Store, python_store: Store, requests: list[ExportLogsServiceRequest]
) -> None:
    for store in (fresh_store, python_store):
        store.command(f"TRUNCATE TABLE {store.table(tables.LOGS)}")
    _store_both_ways(fresh_store, python_store, [request.SerializeToString() for request in requests], LOGS)
    assert _rows(fresh_store, tables.LOGS) == _rows(python_store, tables.LOGS)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    bodies=st.lists(scalars, min_size=1, max_size=4),
    attributes=scalar_attributes,
    times=st.tuples(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1)),
    severity=st.integers(-(2**31), 2**31 - 1),
)
def test_any_flat_log_request_is_stored_by_the_engine_as_the_python_decoder_stores_it(
    fresh_store: Store,
    python_store: Store,
    bodies: list[AnyValue],
    attributes: list[KeyValue],
    times: tuple[int, int],
    severity: int,
) -> None:
    for store in (fresh_store, python_store):
        store.command(f"TRUNCATE TABLE {store.table(tables.LOGS)}")
    records = [
        LogRecord(
            time_unix_nano=times[0],
            observed_time_unix_nano=times[1],
            severity_number=SeverityNumber.ValueType(severity),
            body=body,
            attributes=attributes,
        )
        for body in bodies
    ]
    batch = _store_both_ways(fresh_store, python_store, [_log_request(records, attributes)], LOGS)
    assert batch[0].decoded is None
    assert _rows(fresh_store, tables.LOGS) == _rows(python_store, tables.LOGS)


def test_log_records_without_a_body_are_stored_by_the_engine_after_the_unchecked_insert_fails(
    fresh_store: Store, python_store: Store
) -> None:
    # Read without arrays, a missing body looks like an array: the unchecked insert refuses the
    # batch, the check passes it, and the engine stores it; the next batches are checked first.
    plan = CheckFirst()
    bodies = [
        _log_request([LogRecord(event_name="cart.emptied", time_unix_nano=1_700_000_000_000_000_000)]),
        _log_request([LogRecord(body=AnyValue(string_value="plain"))]),
    ]
    batch = [rows for body in bodies for rows in LOGS.decode_for_engine(body).engine_rows]
    assert commit_in_engine(fresh_store, tables.LOGS, batch, plan) == []
    assert all(rows.decoded is None for rows in batch), "both requests stay on the engine path"
    for body in bodies:
        for table_rows in LOGS.decode(body, json_body=False).rows:
            python_store.insert_arrow(table_rows.table, table_rows.to_arrow())
    assert _rows(fresh_store, tables.LOGS) == _rows(python_store, tables.LOGS)
    assert len(_rows(fresh_store, tables.LOGS)) == 2
    assert plan.wanted(tables.LOGS)
    assert not plan.wanted(tables.TRACES)


def test_a_batch_too_large_for_one_block_is_checked_first(
    fresh_store: Store, python_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only a batch that fits one block in the engine's memory is inserted unchecked; a larger one is
    # checked first, so no unchecked insert can fail and ask for the next batches to be checked.
    monkeypatch.setattr(engine_rows, "UNCHECKED_MAX_ROWS", 1)
    plan = CheckFirst()
    odd_span = _span(0, attributes=[_kv("a", array_value=ArrayValue())])
    bodies = [_request([_span(1), _span(2)]), _request([odd_span])]
    batch = [rows for body in bodies for rows in TRACES.decode_for_engine(body).engine_rows]
    for left in commit_in_engine(fresh_store, tables.TRACES, batch, plan):
        fresh_store.insert_arrow(left.table, left.to_arrow())
    for body in bodies:
        for table_rows in TRACES.decode(body, json_body=False).rows:
            python_store.insert_arrow(table_rows.table, table_rows.to_arrow())
    assert [rows.decoded is not None for rows in batch] == [False, True]
    assert _rows(fresh_store) == _rows(python_store)
    assert not plan.wanted(tables.TRACES)
