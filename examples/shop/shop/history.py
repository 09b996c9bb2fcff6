"""A stretch of the shop's past as OTLP spans with simulated timestamps, written in seconds.

Forecasts need days of history; waiting for them is not a demo. This replays the traffic shape of
:mod:`shop.traffic` over ``days`` ending now and builds each request's trace as the instrumented shop
would (server span; catalog read; the N+1 item reads, the three sequential stub calls, or the
payment quote that sometimes times out and the charge after it), with the OpenTelemetry SDK's own
tracer and exporter, so the spans are the SDK's, with explicit start and end times.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import SpanKind, Status, StatusCode

import shop
from shop import db, downstream
from shop.config import ShopConfig
from shop.traffic import WEEK_S, ShopRequest, arrivals

MS = 1_000_000
CHUNK_SPANS = 2000
STUBS = "http://stubs:8001"


class _SeededIds(IdGenerator):
    """Trace and span ids from a seeded generator, so a replay is reproducible."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def generate_span_id(self) -> int:
        return self._rng.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        return self._rng.getrandbits(128) or 1


class _Chunked(SpanProcessor):
    """Exports ended spans in chunks, synchronously: nothing is dropped however fast spans end."""

    def __init__(self, exporter: SpanExporter) -> None:
        self.exporter = exporter
        self.pending: list[ReadableSpan] = []
        self.exported = 0

    def on_end(self, span: ReadableSpan) -> None:
        self.pending.append(span)
        if len(self.pending) >= CHUNK_SPANS:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            if self.exporter.export(self.pending) is not SpanExportResult.SUCCESS:
                raise RuntimeError(f"the OTLP receiver refused {len(self.pending)} spans")
            self.exported += len(self.pending)
            self.pending = []

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        self.flush()
        return True


def _code(function: object) -> dict[str, str | int]:
    code = function.__code__  # type: ignore[attr-defined]
    return {
        "code.function": code.co_name,
        "code.filepath": f"shop/{code.co_filename.rsplit('/', 1)[-1]}",
        "code.lineno": code.co_firstlineno,
    }


class _Replay:
    def __init__(self, tracer: trace.Tracer, config: ShopConfig, rng: random.Random, detailed: bool) -> None:
        self.tracer = tracer
        self.config = config
        self.rng = rng
        self.detailed = detailed

    def _jitter(self, ms: float) -> int:
        return max(1, round(ms * self.rng.uniform(0.8, 1.4) * MS))

    def _call(
        self,
        parent: Context,
        at: int,
        name: str,
        ms: float,
        attributes: Mapping[str, str | int],
        error: str | None = None,
    ) -> int:
        """A client span from ``at`` (only its time when not ``detailed``); returns its end."""
        end = at + self._jitter(ms)
        if not self.detailed:
            return end
        span = self.tracer.start_span(name, parent, SpanKind.CLIENT, attributes, start_time=at)
        if error is not None:
            span.add_event("exception", {"exception.type": error, "exception.message": "timed out"}, end)
            span.set_status(Status(StatusCode.ERROR, error))
        span.end(end)
        return end

    def _sql(self, parent: Context, at: int, statement: str, function: object) -> int:
        attributes: dict[str, str | int] = {
            "db.system": "sqlite",
            "db.statement": statement,
            **_code(function),
        }
        return self._call(parent, at, statement.split()[0], self.config.db_latency_ms, attributes)

    def request(self, request: ShopRequest, start: int) -> None:
        route = {"checkout": "/checkout"}.get(request.kind, f"/{request.kind}")
        method = "POST" if request.kind == "checkout" else "GET"
        server = self.tracer.start_span(
            f"{method} {route}",
            kind=SpanKind.SERVER,
            start_time=start,
            attributes={"http.method": method, "http.route": route, "http.target": route},
        )
        parent = trace.set_span_in_context(server)
        at = self._sql(
            parent, start + MS, "SELECT id, name, price_cents FROM products ORDER BY id", db.read_catalog
        )
        status = 200
        if request.kind == "orders":
            at = self._sql(
                parent,
                at,
                "SELECT id, created_at FROM orders WHERE user_id = ? ORDER BY id DESC LIMIT ?",
                db.list_orders_with_items,
            )
            for _ in range(self.config.orders_shown):
                at = self._sql(
                    parent,
                    at,
                    "SELECT product_id, quantity FROM items WHERE order_id = ?",
                    db.list_orders_with_items,
                )
        elif request.kind == "home":
            c = self.config
            for path, ms, fetch in (
                (f"/users/{request.user_id}", c.user_latency_ms, downstream.fetch_user),
                (
                    f"/recommendations?user_id={request.user_id}",
                    c.recommendations_latency_ms,
                    downstream.fetch_recommendations,
                ),
                (f"/inventory?user_id={request.user_id}", c.inventory_latency_ms, downstream.fetch_inventory),
            ):
                call: dict[str, str | int] = {
                    "http.method": "GET",
                    "http.url": f"{STUBS}{path}",
                    **_code(fetch),
                }
                at = self._call(parent, at + MS // 2, "GET", ms, {**call, "http.status_code": 200})
        elif request.kind == "checkout":
            quote: dict[str, str | int] = {
                "http.method": "GET",
                "http.url": f"{STUBS}/payments/quote?checkout_id={self.rng.getrandbits(64):016x}"
                f"&user_id={request.user_id}&amount_cents={100 * request.product_id}",
                **_code(downstream.quote),
            }
            if self.rng.random() < self.config.payment_timeout_rate:
                at = self._call(parent, at, "GET", self.config.payment_timeout_ms, quote, "httpx.ReadTimeout")
                status = 504
            else:
                at = self._call(
                    parent, at, "GET", self.config.payment_latency_ms, {**quote, "http.status_code": 200}
                )
                charge: dict[str, str | int] = {
                    "http.method": "POST",
                    "http.url": f"{STUBS}/payments",
                    "http.status_code": 200,
                    **_code(downstream.charge),
                }
                at = self._call(parent, at, "POST", self.config.payment_latency_ms, charge)
                at = self._sql(
                    parent, at, "INSERT INTO orders (user_id, created_at) VALUES (?, ?)", db.place_order
                )
                at = self._sql(
                    parent,
                    at,
                    "INSERT INTO items (order_id, product_id, quantity) VALUES (?, ?, ?)",
                    db.place_order,
                )
                status = 201
        server.set_attribute("http.status_code", status)
        if status >= 500:
            server.set_status(Status(StatusCode.ERROR))
        server.end(at + MS)


def emit(
    otlp_endpoint: str,
    *,
    days: float = 7.0,
    peak_per_minute: float = 6.0,
    seed: int = 7,
    end: datetime | None = None,
    config: ShopConfig | None = None,
    exporter: SpanExporter | None = None,
    detailed: bool = False,
) -> int:
    """Write ``days`` of shop traffic ending at ``end`` (default now); returns the spans written.

    Only the server spans unless ``detailed``: they carry the load and the errors a forecast needs,
    and building every database and stub span takes the SDK several times as long."""
    config = config or ShopConfig(seed=seed)
    end = (end or datetime.now(UTC)).astimezone(UTC)
    start = end - timedelta(days=days)
    provider = TracerProvider(
        resource=Resource.create({"service.name": config.service_name, "service.version": shop.__version__}),
        id_generator=_SeededIds(seed),
    )
    processor = _Chunked(exporter or OTLPSpanExporter(endpoint=f"{otlp_endpoint.rstrip('/')}/v1/traces"))
    provider.add_span_processor(processor)
    replay = _Replay(provider.get_tracer("shop.history"), config, random.Random(seed + 1), detailed)
    schedule = arrivals(
        seed=seed, peak_rps=peak_per_minute / 60, week_seconds=WEEK_S, start=start, duration_s=days * 86400
    )
    start_ns = round(start.timestamp() * 1e9)
    for arrival in schedule:
        replay.request(arrival.request, start_ns + round(arrival.offset_s * 1e9))
    processor.flush()
    provider.shutdown()
    return processor.exported


__all__: Sequence[str] = ["emit"]
