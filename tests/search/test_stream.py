"""The live tail: a record stored after the client connects arrives as a Server-Sent Event."""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import Any

import httpx

from tests.search.data import log_body, log_record, post_json
from tests.support.server import InProcessServer

MS = 1_000_000


def _listen(url: str, params: dict[str, Any], events: queue.Queue[Any], stop: threading.Event) -> None:
    with httpx.stream("GET", url, params=params, timeout=httpx.Timeout(10, read=30)) as response:
        events.put(("status", response.status_code, response.headers.get("content-type")))
        for line in response.iter_lines():
            if line.startswith(":"):
                events.put(("comment", line))
            elif line.startswith("data:"):
                events.put(("log", json.loads(line[5:])))
            if stop.is_set():
                return


def test_tail_receives_records_sent_after_connecting(server: InProcessServer) -> None:
    before = time.time_ns()
    post_json(
        f"{server.otlp_url}/v1/logs", log_body("api", [log_record(before - 60_000 * MS, 17, "ERROR", "old")])
    )
    events: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()
    listener = threading.Thread(
        target=_listen,
        args=(f"{server.api_url}/api/v1/logs/stream", {"service": "api", "q": "boom"}, events, stop),
        daemon=True,
    )
    listener.start()
    assert events.get(timeout=10) == ("status", 200, "text/event-stream; charset=utf-8")
    assert events.get(timeout=10)[0] == "comment"  # connected: the tail is polling now
    now = time.time_ns()
    post_json(
        f"{server.otlp_url}/v1/logs",
        log_body("api", [
            log_record(now, 9, "INFO", "quiet line"),
            log_record(now, 17, "ERROR", "boom at the disco", "ab" * 16),
        ]),
    )  # fmt: skip
    post_json(
        f"{server.otlp_url}/v1/logs", log_body("other", [log_record(now, 17, "ERROR", "boom elsewhere")])
    )
    sent_at = time.monotonic()
    kind, record = events.get(timeout=10)
    while kind == "comment":
        kind, record = events.get(timeout=10)
    received_after = time.monotonic() - sent_at
    stop.set()
    assert kind == "log"
    assert (record["body"], record["service_name"], record["trace_id"]) == (
        "boom at the disco",
        "api",
        "ab" * 16,
    )
    assert received_after < 10  # the issue promises 2 s; only a coarse bound here, the bench measures
    assert events.empty() or all(e[0] == "comment" for e in list(events.queue))


def test_tail_rejects_bad_filters_before_streaming(server: InProcessServer) -> None:
    response = httpx.get(f"{server.api_url}/api/v1/logs/stream", params={"severity": "loud"})
    assert response.status_code == 400
    assert response.json()["parameter"] == "severity"
