import httpx


def test_server_stores_otlp_json_trace(server) -> None:
    body = open("/work/shared/otlp-examples/trace.json", "rb").read()
    response = httpx.post(f"{server.otlp_url}/v1/traces", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    rows = server.store.query_rows(f"SELECT TraceId, SpanName FROM {server.store.table('otel_traces')}")
    assert rows == [("5b8efff798038103d269b633813fc60c", "I'm a server span")]
