"""The traffic generator's shape, seeding and time compression, and the replayed history."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from conftest import Shop
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from shop import history, traffic
from shop.config import ShopConfig

MONDAY = datetime(2026, 11, 2, tzinfo=UTC)


def test_shape_peaks_in_the_afternoon_and_dips_at_night_and_weekends() -> None:
    peak = traffic.shape(MONDAY.replace(hour=14))
    night = traffic.shape(MONDAY.replace(hour=2))
    saturday_peak = traffic.shape((MONDAY + timedelta(days=5)).replace(hour=14))

    assert peak == 1.0
    assert night < 0.2
    assert saturday_peak == traffic.WEEKEND_FACTOR


def test_arrivals_are_reproducible_for_a_seed_and_differ_across_seeds() -> None:
    def run(seed: int) -> list[traffic.Arrival]:
        return list(traffic.arrivals(seed=seed, peak_rps=20, week_seconds=300, start=MONDAY, duration_s=30))

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_a_compressed_week_keeps_the_daily_and_weekly_shape() -> None:
    week = list(traffic.arrivals(seed=3, peak_rps=40, week_seconds=300, start=MONDAY, duration_s=300))

    assert week[-1].simulated - MONDAY > timedelta(days=6, hours=20)
    assert all(0 <= a.offset_s < 300 for a in week)
    by_hour = Counter(a.simulated.hour for a in week if a.simulated.weekday() < 5)
    assert by_hour[14] > 3 * by_hour[2]
    weekday = sum(1 for a in week if a.simulated.weekday() < 5) / 5
    weekend = sum(1 for a in week if a.simulated.weekday() >= 5) / 2
    assert weekend < 0.8 * weekday
    kinds = Counter(a.request.kind for a in week)
    assert set(kinds) == {name for name, _ in traffic.MIX}
    assert kinds["home"] > kinds["catalog"]


def test_burst_drives_every_kind_of_request_through_the_shop(shop: Shop) -> None:
    stats = traffic.burst(shop.url, 24, seed=5, concurrency=4)

    assert stats.sent == 24
    assert stats.failed == 0
    assert set(stats.statuses) <= {200, 201, 504}
    assert set(stats.by_kind) == {name for name, _ in traffic.MIX}


def test_history_replays_a_day_with_simulated_timestamps() -> None:
    exporter = InMemorySpanExporter()
    end = MONDAY + timedelta(days=1)
    config = ShopConfig(payment_timeout_rate=0.2)

    written = history.emit(
        "unused", days=1, peak_per_minute=6, seed=9, end=end, config=config, exporter=exporter
    )

    spans = exporter.get_finished_spans()
    assert written == len(spans) > 1000
    assert all(s.kind is SpanKind.SERVER for s in spans)
    starts = [datetime.fromtimestamp((s.start_time or 0) / 1e9, UTC) for s in spans]
    assert min(starts) >= MONDAY
    assert max(starts) < end
    by_hour = Counter(t.hour for t in starts)
    assert by_hour[14] > 3 * by_hour[2]
    checkouts = [s for s in spans if s.name == "POST /checkout"]
    failed = [s for s in checkouts if s.status.status_code is StatusCode.ERROR]
    assert 0.1 < len(failed) / len(checkouts) < 0.3
    assert {s.resource.attributes["service.name"] for s in spans} == {"shop"}


def test_detailed_history_builds_the_same_trees_as_the_shop() -> None:
    exporter = InMemorySpanExporter()

    history.emit(
        "unused", days=0.05, peak_per_minute=30, seed=9, end=MONDAY, exporter=exporter, detailed=True
    )

    spans = exporter.get_finished_spans()
    orders = next(s for s in spans if s.name == "GET /orders")
    assert orders.context is not None
    children = [s for s in spans if s.parent is not None and s.parent.span_id == orders.context.span_id]
    statements = Counter(str((s.attributes or {}).get("db.statement")) for s in children)
    assert (
        statements["SELECT product_id, quantity FROM items WHERE order_id = ?"] == ShopConfig().orders_shown
    )
    assert all(s.start_time is not None and s.start_time < MONDAY.timestamp() * 1e9 for s in spans)
