"""Bad, oversized, hostile and unauthenticated requests get their documented status, and nothing
stored before them is lost."""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from tests.support.rows import count, example
from tests.support.server import InProcessServer

PROTOBUF = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}
LIMIT = 64 * 1024


def _span(name: str, trace_id: bytes = b"\x01" * 16, span_id: bytes = b"\x02" * 8) -> Span:
    return Span(trace_id=trace_id, span_id=span_id, name=name, start_time_unix_nano=1, end_time_unix_nano=2)


def _request(*spans: Span) -> ExportTraceServiceRequest:
    resource = Resource(attributes=[KeyValue(key="service.name", value=AnyValue(string_value="svc"))])
    return ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(resource=resource, scope_spans=[ScopeSpans(spans=list(spans))])]
    )


@pytest.fixture
def limited(fresh_store) -> Iterator[InProcessServer]:
    """A server with a small body limit and tokens on both the receiver and the API."""
    server = InProcessServer(
        fresh_store, max_request_bytes=LIMIT, ingest_tokens=("ingest-secret",), api_tokens=("api-secret",)
    ).start()
    yield server
    server.stop()


def _post(
    server: InProcessServer,
    body: bytes,
    headers: dict[str, str],
    signal: str = "traces",
    token: str | None = "ingest-secret",
) -> httpx.Response:
    if token is not None:
        headers = {**headers, "Authorization": f"Bearer {token}"}
    return httpx.post(f"{server.otlp_url}/v1/{signal}", content=body, headers=headers, timeout=30)


def _status(response: httpx.Response) -> status_pb2.Status:
    status = status_pb2.Status()
    if response.headers["content-type"] == "application/json":
        body = response.json()
        status.code, status.message = body["code"], body["message"]
    else:
        status.ParseFromString(response.content)
    return status


@pytest.fixture
def stored(limited: InProcessServer) -> InProcessServer:
    """The limited server, with one good span stored before the bad input arrives."""
    response = _post(limited, _request(_span("before")).SerializeToString(), PROTOBUF)
    assert response.status_code == 200
    return limited


def _still_intact(server: InProcessServer) -> None:
    assert count(server.store, "otel_traces", "SpanName = 'before'") == 1


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        pytest.param(_request(_span("x" * 50)).SerializeToString()[:-7], PROTOBUF, id="truncated-protobuf"),
        pytest.param(b"\xff\xff\xff\xff\x0f\x00garbage", PROTOBUF, id="random-bytes"),
        pytest.param(b'{"resourceSpans": [', JSON, id="truncated-json"),
        pytest.param(b"[1, 2, 3]", JSON, id="json-array"),
        pytest.param(b'{"resourceSpans": "not a list"}', JSON, id="json-wrong-shape"),
        pytest.param(
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "soon"}]}]}]}',
            JSON,
            id="json-bad-integer",
        ),
        pytest.param(b"[" * 30_000 + b"]" * 30_000, JSON, id="json-deep-nesting"),
    ],
)
def test_undecodable_body_is_400_with_status(
    stored: InProcessServer, body: bytes, headers: dict[str, str]
) -> None:
    response = _post(stored, body, headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == headers["Content-Type"]
    status = _status(response)
    assert status.code == 3  # INVALID_ARGUMENT
    assert status.message
    _still_intact(stored)


def test_unsupported_content_type_is_415(stored: InProcessServer) -> None:
    response = _post(stored, b"hello", {"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert "application/x-protobuf" in response.json()["message"]
    assert _post(stored, b"hello", {}).status_code == 415
    _still_intact(stored)


def test_oversized_body_is_413(stored: InProcessServer) -> None:
    big = _request(*[_span("s" * 1000, span_id=i.to_bytes(8, "big")) for i in range(1, 100)])
    body = big.SerializeToString()
    assert len(body) > LIMIT
    response = _post(stored, body, PROTOBUF)
    assert response.status_code == 413
    assert _status(response).code == 8  # RESOURCE_EXHAUSTED
    _still_intact(stored)


def test_gzip_bomb_is_413_without_inflating_it(stored: InProcessServer) -> None:
    bomb = gzip.compress(b"\x00" * (60 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < LIMIT  # small on the wire, 960 times the limit once inflated
    response = _post(stored, bomb, {**PROTOBUF, "Content-Encoding": "gzip"})
    assert response.status_code == 413
    _still_intact(stored)


def test_gzip_body_is_accepted_and_bad_gzip_is_400(stored: InProcessServer) -> None:
    body = gzip.compress(_request(_span("zipped")).SerializeToString())
    assert _post(stored, body, {**PROTOBUF, "Content-Encoding": "gzip"}).status_code == 200
    assert count(stored.store, "otel_traces", "SpanName = 'zipped'") == 1
    assert _post(stored, body[:-10], {**PROTOBUF, "Content-Encoding": "gzip"}).status_code == 400
    assert _post(stored, b"not gzip", {**PROTOBUF, "Content-Encoding": "gzip"}).status_code == 400
    assert _post(stored, body, {**PROTOBUF, "Content-Encoding": "br"}).status_code == 415
    _still_intact(stored)


def test_invalid_ids_are_refused_one_by_one_as_partial_success(stored: InProcessServer) -> None:
    request = _request(
        _span("good", span_id=b"\x05" * 8),
        _span("short-trace-id", trace_id=b"\x01" * 15),
        _span("zero-span-id", span_id=b"\x00" * 8),
        _span("also-good", span_id=b"\x06" * 8),
    )
    response = _post(stored, request.SerializeToString(), PROTOBUF)
    assert response.status_code == 200
    answer = ExportTraceServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_spans == 2
    assert "trace_id must be 16 bytes" in answer.partial_success.error_message
    assert "span_id must not be all zeros" in answer.partial_success.error_message
    names = {
        row[0] for row in stored.store.query_rows(f"SELECT SpanName FROM {stored.store.table('otel_traces')}")
    }
    assert names == {"before", "good", "also-good"}


def test_invalid_ids_in_json_are_partial_success(stored: InProcessServer) -> None:
    logs = json.loads(example("logs.json"))
    record = logs["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    bad = dict(record, spanId="xyz-not-hex", body={"stringValue": "bad"})
    short = dict(record, traceId="abcd", body={"stringValue": "short"})
    logs["resourceLogs"][0]["scopeLogs"][0]["logRecords"] = [record, bad, short]
    response = _post(stored, json.dumps(logs).encode(), JSON, signal="logs")
    assert response.status_code == 200
    assert response.json()["partialSuccess"]["rejectedLogRecords"] == "2"
    assert count(stored.store, "otel_logs") == 1
    _still_intact(stored)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong", "Bearer ingest-secretX", "Basic aW5nZXN0LXNlY3JldA==", "ingest-secret"],
)
def test_missing_or_wrong_ingest_token_is_401(stored: InProcessServer, authorization: str | None) -> None:
    headers = PROTOBUF if authorization is None else {**PROTOBUF, "Authorization": authorization}
    response = _post(stored, _request(_span("intruder")).SerializeToString(), headers, token=None)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert count(stored.store, "otel_traces", "SpanName = 'intruder'") == 0
    _still_intact(stored)


def test_health_version_and_metrics_need_no_token(limited: InProcessServer) -> None:
    for path in ("/healthz", "/readyz", "/version", "/metrics"):
        assert httpx.get(f"{limited.api_url}{path}").status_code == 200, path


def test_tokens_never_reach_logs_metrics_or_settings_repr(
    limited: InProcessServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = _request(_span("ok")).SerializeToString()
    assert _post(limited, body, PROTOBUF, token="ingest-secret").status_code == 200
    assert _post(limited, body, PROTOBUF, token="guess-123").status_code == 401
    assert _post(limited, b"junk", PROTOBUF, token="ingest-secret").status_code == 400
    seen = (
        caplog.text
        + httpx.get(f"{limited.api_url}/metrics").text
        + repr(limited.settings)
        + str(limited.settings)
    )
    assert "tsdev_ingest_requests_total" in seen
    for secret in ("ingest-secret", "api-secret", "guess-123"):
        assert secret not in seen
