"""Fixtures for the shop's tests: the shop served on free ports, its spans kept in memory.

The shop is not an installed package; its project folder goes on ``sys.path`` here so the tests run
the same from ``examples/shop`` and from the repository root.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from shop import server
from shop.config import ShopConfig

FAST = ShopConfig(
    db_latency_ms=2,
    user_latency_ms=15,
    recommendations_latency_ms=15,
    inventory_latency_ms=15,
    payment_latency_ms=1,
    payment_timeout_rate=0.3,
    payment_timeout_ms=150,
    orders_shown=6,
)
"""Short delays so the tests are fast, a high timeout rate so failures show in a few calls."""


class Shop:
    """The running shop and the spans each of its services ended."""

    def __init__(self, running: server.RunningShop) -> None:
        self.running = running
        self.url = running.url
        self.stubs_exporter, self.shop_exporter = InMemorySpanExporter(), InMemorySpanExporter()
        stubs, shop = running.telemetry
        stubs.tracer_provider.add_span_processor(SimpleSpanProcessor(self.stubs_exporter))
        shop.tracer_provider.add_span_processor(SimpleSpanProcessor(self.shop_exporter))

    def spans(self, requests: int, timeout_s: float = 10.0) -> list[ReadableSpan]:
        """The shop's spans once ``requests`` server spans have ended (a server span ends just
        after its answer is sent, so a test that got the answer may still be ahead of it)."""
        deadline = time.monotonic() + timeout_s
        while True:
            spans = list(self.shop_exporter.get_finished_spans())
            if sum(s.kind is SpanKind.SERVER for s in spans) >= requests or time.monotonic() > deadline:
                return spans
            time.sleep(0.01)


@pytest.fixture
def shop() -> Iterator[Shop]:
    running = server.start(FAST, port=0, stubs_port=0, export=False)
    try:
        yield Shop(running)
    finally:
        running.stop()
