"""Scenarios for the job tests: labelled traces placed in time, stored the way ingest stores them."""

from __future__ import annotations

from collections.abc import Iterable

from tests.support.spans import BASE_NS, TraceBuilder, frame, orders_loop, otel_arrow
from tsdev.analysis.jobs import Window
from tsdev.core.store import Store

S = 1_000_000_000
N_PLUS_ONE = "v1:2ebe50f6e8575f6fb36197c2462099c9"
"""The fingerprint of the ``GET /orders`` loop of :func:`tests.support.spans.orders_loop`."""


def window(start_s: float, end_s: float) -> Window:
    """A window in seconds after :data:`tests.support.spans.BASE_NS`."""
    return Window(BASE_NS + int(start_s * S), BASE_NS + int(end_s * S))


def with_version(traces: Iterable[TraceBuilder], version: str) -> list[TraceBuilder]:
    traces = list(traces)
    for trace in traces:
        for row in trace.rows:
            row["service_version"] = version
    return traces


def loops(first: int, count: int = 10, *, at_s: float = 0.0, version: str = "1.0.0") -> list[TraceBuilder]:
    """``count`` N+1 traces of ``GET /orders``, one a second from ``at_s``."""
    traces = [orders_loop(first + i, start_ms=(at_s + i) * 1000.0) for i in range(count)]
    return with_version(traces, version)


def clean(first: int, count: int = 10, *, at_s: float = 0.0, version: str = "1.0.0") -> list[TraceBuilder]:
    """``GET /orders`` without the loop (the fixed code)."""
    traces = []
    for i in range(count):
        trace = TraceBuilder(number=first + i, start_ms=(at_s + i) * 1000.0)
        trace.server("/orders", duration_ms=20.0)
        traces.append(trace)
    return with_version(traces, version)


def store_traces(store: Store, traces: Iterable[TraceBuilder]) -> None:
    store.insert_arrow("otel_traces", otel_arrow(frame(traces)))
