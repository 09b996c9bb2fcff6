"""The OTLP/JSON examples published with the protocol are stored field for field."""

from __future__ import annotations

import httpx

from tests.support.rows import count, example, fetch

JSON = {"Content-Type": "application/json"}
RESOURCE = {"service.name": "my.service"}
SCOPE_ATTRIBUTES = {"my.scope.attribute": "some scope attribute"}
T0 = 1544712660300000000


def _post(server, signal: str, body: bytes) -> httpx.Response:
    response = httpx.post(f"{server.otlp_url}/v1/{signal}", content=body, headers=JSON, timeout=60)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {}  # no partial success: everything was accepted
    return response


def test_trace_example(server) -> None:
    _post(server, "traces", example("trace.json"))
    (span,) = fetch(server.store, "otel_traces")
    assert span == {
        "Timestamp": 1544712660000000000,
        "TraceId": "5b8efff798038103d269b633813fc60c",
        "SpanId": "eee19b7ec3c1b174",
        "ParentSpanId": "eee19b7ec3c1b173",
        "TraceState": "",
        "SpanName": "I'm a server span",
        "SpanKind": "Server",
        "ServiceName": "my.service",
        "ResourceAttributes": RESOURCE,
        "ScopeName": "my.library",
        "ScopeVersion": "1.0.0",
        "SpanAttributes": {"my.span.attr": "some value"},
        "Duration": 1_000_000_000,
        "StatusCode": "Unset",
        "StatusMessage": "",
        "Events.Timestamp": [],
        "Events.Name": [],
        "Events.Attributes": [],
        "Links.TraceId": [],
        "Links.SpanId": [],
        "Links.TraceState": [],
        "Links.Attributes": [],
    }
    lookup = server.store.query_rows(
        f"SELECT TraceId, toUnixTimestamp(min(Start)), toUnixTimestamp(max(End)) "
        f"FROM {server.store.table('otel_traces_trace_id_ts')} GROUP BY TraceId"
    )
    assert lookup == [("5b8efff798038103d269b633813fc60c", 1544712660, 1544712660)]


def test_logs_example_every_attribute_type(server) -> None:
    _post(server, "logs", example("logs.json"))
    (record,) = fetch(server.store, "otel_logs")
    assert record == {
        "Timestamp": T0,
        "TimestampTime": T0 // 10**9,
        "TraceId": "5b8efff798038103d269b633813fc60c",
        "SpanId": "eee19b7ec3c1b174",
        "TraceFlags": 0,
        "SeverityText": "Information",
        "SeverityNumber": 10,
        "ServiceName": "my.service",
        "Body": "Example log record",
        "ResourceSchemaUrl": "",
        "ResourceAttributes": RESOURCE,
        "ScopeSchemaUrl": "",
        "ScopeName": "my.library",
        "ScopeVersion": "1.0.0",
        "ScopeAttributes": SCOPE_ATTRIBUTES,
        "LogAttributes": {
            "string.attribute": "some string",
            "boolean.attribute": "true",
            "int.attribute": "10",
            "double.attribute": "637.704",
            "array.attribute": '["many","values"]',
            "map.attribute": '{"some.map.key":"some value"}',
        },
        "EventName": "",
    }


def test_events_example_kvlist_body_is_json(server) -> None:
    _post(server, "logs", example("events.json"))
    (record,) = fetch(server.store, "otel_logs")
    assert record["EventName"] == "browser.page_view"
    assert record["SeverityNumber"] == 9
    assert record["SeverityText"] == "test severity text"
    assert record["LogAttributes"] == {"event.attribute": "some event attribute"}
    assert record["Body"] == (
        '{"type":0,"url":"https://www.guidgenerator.com/online-guid-generator.aspx",'
        '"referrer":"https://wwww.google.com","title":"Free Online GUID Generator"}'
    )


def test_metrics_example_all_types(server) -> None:
    _post(server, "metrics", example("metrics.json"))
    common = {
        "ResourceAttributes": RESOURCE,
        "ResourceSchemaUrl": "",
        "ScopeName": "my.library",
        "ScopeVersion": "1.0.0",
        "ScopeAttributes": SCOPE_ATTRIBUTES,
        "ScopeDroppedAttrCount": 0,
        "ScopeSchemaUrl": "",
        "ServiceName": "my.service",
        "MetricUnit": "1",
        "TimeUnix": T0,
        "Flags": 0,
        "Exemplars.FilteredAttributes": [],
        "Exemplars.TimeUnix": [],
        "Exemplars.Value": [],
        "Exemplars.SpanId": [],
        "Exemplars.TraceId": [],
    }
    (total,) = fetch(server.store, "otel_metrics_sum")
    assert total == {
        **common,
        "MetricName": "my.counter",
        "MetricDescription": "I am a Counter",
        "Attributes": {"my.counter.attr": "some value"},
        "StartTimeUnix": T0,
        "Value": 5.0,
        "AggregationTemporality": 1,
        "IsMonotonic": True,
    }
    (gauge,) = fetch(server.store, "otel_metrics_gauge")
    assert gauge == {
        **common,
        "MetricName": "my.gauge",
        "MetricDescription": "I am a Gauge",
        "Attributes": {"my.gauge.attr": "some value"},
        "StartTimeUnix": 0,
        "Value": 10.0,
    }
    (histogram,) = fetch(server.store, "otel_metrics_histogram")
    assert histogram == {
        **common,
        "MetricName": "my.histogram",
        "MetricDescription": "I am a Histogram",
        "Attributes": {"my.histogram.attr": "some value"},
        "StartTimeUnix": T0,
        "Count": 2,
        "Sum": 2.0,
        "BucketCounts": [1, 1],
        "ExplicitBounds": [1.0],
        "Min": 0.0,
        "Max": 2.0,
        "AggregationTemporality": 1,
    }
    (exponential,) = fetch(server.store, "otel_metrics_exp_histogram")
    assert exponential == {
        **common,
        "MetricName": "my.exponential.histogram",
        "MetricDescription": "I am an Exponential Histogram",
        "Attributes": {"my.exponential.histogram.attr": "some value"},
        "StartTimeUnix": T0,
        "Count": 3,
        "Sum": 10.0,
        "Scale": 0,
        "ZeroCount": 1,
        "PositiveOffset": 1,
        "PositiveBucketCounts": [0, 2],
        "NegativeOffset": 0,
        "NegativeBucketCounts": [],
        "Min": 0.0,
        "Max": 5.0,
        "AggregationTemporality": 1,
    }
    assert count(server.store, "otel_metrics_summary") == 0
