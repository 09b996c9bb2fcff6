"""Synthetic request traffic for the forecasting tests: OTLP/JSON bodies and per-minute history rows.

Short, recent traffic goes through the real OTLP/HTTP receiver as OTLP/JSON (the path production
data takes, materialized view included). Days of history at one-minute step would be hundreds of
thousands of spans, so they are written straight into the per-minute aggregate the view would have
produced, which is what the series query reads.
"""

from __future__ import annotations

import math
import os
from datetime import datetime, timedelta

import httpx
import numpy as np
import pyarrow as pa

from tsdev.core.store import Store


def _span(service: str, operation: str, start_ns: int, number: int) -> dict[str, object]:
    return {
        "traceId": os.urandom(16).hex(),
        "spanId": f"{number + 1:016x}",
        "name": operation,
        "kind": 2,  # SPAN_KIND_SERVER
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(start_ns + 5_000_000),
        "status": {},
    }


def send_requests(
    otlp_url: str, service: str, minutes: int, per_minute: int, operation: str = "GET /items"
) -> None:
    """``per_minute`` server spans in each of the last ``minutes`` complete minutes, via OTLP/JSON."""
    now = datetime.now().astimezone().replace(second=0, microsecond=0)
    spans: list[dict[str, object]] = []
    for m in range(minutes, 0, -1):
        minute_ns = int((now - timedelta(minutes=m)).timestamp()) * 1_000_000_000
        for i in range(per_minute):
            spans.append(_span(service, operation, minute_ns + i * 1_000_000_000, len(spans)))
    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
                "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}],
            }
        ]
    }
    response = httpx.post(f"{otlp_url}/v1/traces", json=body, timeout=30)
    response.raise_for_status()


def daily_rate(minutes: np.ndarray, base: float = 40.0, swing: float = 30.0) -> np.ndarray:
    """Requests per minute with a daily cycle peaking at 14:00 UTC, deterministic."""
    phase = (minutes % 1440) / 1440.0
    return np.round(base + swing * np.cos(2 * math.pi * (phase - 14 / 24)))


def insert_history(
    store: Store,
    service: str,
    end: datetime,
    span: timedelta,
    *,
    operation: str = "GET /items",
    rate: float | None = None,
    skip: tuple[datetime, datetime] | None = None,
) -> np.ndarray:
    """Per-minute server request counts for ``span`` before ``end`` (naive UTC); returns the counts.

    ``rate`` gives a flat rate, otherwise :func:`daily_rate`; minutes inside ``skip`` get no row.
    """
    count = int(span / timedelta(minutes=1))
    start = end - span
    minutes = int((start - datetime(1970, 1, 1)) / timedelta(minutes=1)) + np.arange(count)
    requests = np.full(count, rate) if rate is not None else daily_rate(minutes)
    times = np.array(minutes * 60, dtype="datetime64[s]")
    keep = np.ones(count, dtype=bool)
    if skip is not None:
        keep = (times < np.datetime64(skip[0], "s")) | (times >= np.datetime64(skip[1], "s"))
    table = pa.table(
        {
            "Minute": pa.array(times[keep], pa.timestamp("s")),
            "ServiceName": [service] * int(keep.sum()),
            "SpanName": [operation] * int(keep.sum()),
            "SpanKind": ["Server"] * int(keep.sum()),
            "Requests": pa.array(requests[keep].astype(np.uint64), pa.uint64()),
            "Errors": pa.array(np.zeros(int(keep.sum()), dtype=np.uint64), pa.uint64()),
            "DurationSum": pa.array(np.zeros(int(keep.sum()), dtype=np.uint64), pa.uint64()),
        }
    )
    store.insert_arrow("tsdev_service_red_1m", table)
    return requests
