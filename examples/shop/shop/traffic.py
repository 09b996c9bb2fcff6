"""Traffic with the daily and weekly shape of a real shop, compressible in time, seeded.

The load at a simulated instant is ``shape(t)``: a daily cycle peaking mid-afternoon (UTC) with a
night trough at a tenth of the peak, times 0.6 on Saturdays and Sundays. Arrivals are a Poisson
process at ``peak_rps`` thinned by the shape, so the same seed gives the same requests at the same
offsets. ``week_seconds`` maps a simulated week onto that many real seconds (``300``: a week in five
minutes), which makes a weekly pattern visible in a short run.

``python -m shop traffic`` drives a running shop over HTTP; ``--emit-otlp`` instead writes the same
shape as spans with simulated timestamps (see :mod:`shop.history`), a week of history in seconds.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from shop.db import PRODUCTS, USERS

WEEK_S = 7 * 24 * 3600
PEAK_HOUR_UTC = 14.0
NIGHT_FLOOR = 0.1
WEEKEND_FACTOR = 0.6

MIX: tuple[tuple[str, float], ...] = (("home", 0.35), ("orders", 0.3), ("checkout", 0.25), ("catalog", 0.1))
"""Share of each kind of request; every one of them reads the catalog."""


def shape(at: datetime) -> float:
    """Relative load in ``(0, 1]`` at simulated UTC time ``at``."""
    hour = at.hour + at.minute / 60 + at.second / 3600
    daily = NIGHT_FLOOR + (1 - NIGHT_FLOOR) * (1 + math.cos(2 * math.pi * (hour - PEAK_HOUR_UTC) / 24)) / 2
    return daily * (WEEKEND_FACTOR if at.weekday() >= 5 else 1.0)


@dataclass(frozen=True)
class ShopRequest:
    """One request to the shop: ``kind`` is one of :data:`MIX`'s names."""

    kind: str
    user_id: int
    product_id: int = 1
    quantity: int = 1

    def send(self, client: httpx.Client) -> int:
        """Send it and return the status code (a failure of the shop is data, not an error here)."""
        if self.kind == "checkout":
            body = {"user_id": self.user_id, "product_id": self.product_id, "quantity": self.quantity}
            return client.post("/checkout", json=body).status_code
        if self.kind == "catalog":
            return client.get("/catalog").status_code
        return client.get(f"/{self.kind}", params={"user_id": self.user_id}).status_code


def pick(rng: random.Random) -> ShopRequest:
    kinds, weights = zip(*MIX, strict=True)
    kind = rng.choices(kinds, weights)[0]
    return ShopRequest(kind, rng.randint(1, USERS), rng.randint(1, PRODUCTS), rng.randint(1, 3))


@dataclass(frozen=True)
class Arrival:
    offset_s: float
    """Real seconds after the start of the run."""
    simulated: datetime
    request: ShopRequest


def arrivals(
    *, seed: int, peak_rps: float, week_seconds: float, start: datetime, duration_s: float | None = None
) -> Iterator[Arrival]:
    """The run's requests in order; endless when ``duration_s`` is None."""
    rng = random.Random(seed)
    speedup = WEEK_S / week_seconds
    offset = 0.0
    while True:
        offset += rng.expovariate(peak_rps)
        if duration_s is not None and offset >= duration_s:
            return
        simulated = start + timedelta(seconds=offset * speedup)
        accept = rng.random() < shape(simulated)
        request = pick(rng)  # drawn either way, so the sequence does not depend on the shape
        if accept:
            yield Arrival(offset, simulated, request)


@dataclass
class TrafficStats:
    """Answers by status code, and requests that got no answer at all."""

    statuses: Counter[int] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)
    failed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def sent(self) -> int:
        return sum(self.statuses.values()) + self.failed

    def record(self, request: ShopRequest, status: int | None) -> None:
        with self._lock:
            self.by_kind[request.kind] += 1
            if status is None:
                self.failed += 1
            else:
                self.statuses[status] += 1


def drive(
    target: str,
    schedule: Iterator[Arrival],
    *,
    concurrency: int = 8,
    paced: bool = True,
    stop: threading.Event | None = None,
) -> TrafficStats:
    """Send each arrival to the shop at ``target`` at its offset (or at once when not ``paced``), up
    to ``concurrency`` at a time so one slow answer does not delay the next arrival."""
    stop = stop or threading.Event()
    stats = TrafficStats()
    began = time.monotonic()
    with httpx.Client(base_url=target, timeout=30.0) as client, ThreadPoolExecutor(concurrency) as pool:

        def send(request: ShopRequest) -> None:
            try:
                stats.record(request, request.send(client))
            except httpx.HTTPError:
                stats.record(request, None)

        for arrival in schedule:
            if paced and stop.wait(max(0.0, arrival.offset_s - (time.monotonic() - began))):
                break
            if stop.is_set():
                break
            pool.submit(send, arrival.request)
    return stats


def burst(target: str, requests: int, *, seed: int = 7, concurrency: int = 8) -> TrafficStats:
    """``requests`` requests of the usual mix as fast as the shop answers them (for tests)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    schedule = (Arrival(0.0, now, pick(rng)) for _ in range(requests))
    return drive(target, schedule, concurrency=concurrency, paced=False)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m shop traffic", description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", default=os.environ.get("SHOP_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("SHOP_SEED", "7")))
    parser.add_argument(
        "--week-seconds", type=float, default=float(os.environ.get("SHOP_WEEK_SECONDS", "300"))
    )
    parser.add_argument("--peak-rps", type=float, default=float(os.environ.get("SHOP_PEAK_RPS", "5")))
    parser.add_argument("--duration", type=float, default=None, help="real seconds to run (default: forever)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--start", type=datetime.fromisoformat, default=None, help="simulated start (UTC)")
    parser.add_argument("--emit-otlp", action="store_true", help="write spans with simulated times instead")
    parser.add_argument(
        "--days", type=float, default=7.0, help="with --emit-otlp: simulated days, ending now"
    )
    parser.add_argument("--peak-per-minute", type=float, default=6.0, help="with --emit-otlp: peak load")
    parser.add_argument("--detailed", action="store_true", help="with --emit-otlp: child spans too")
    parser.add_argument(
        "--otlp-endpoint",
        default=os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
        help="with --emit-otlp: OTLP/HTTP base URL [env: OTEL_EXPORTER_OTLP_ENDPOINT]",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    start: datetime = (args.start or datetime.now(UTC)).astimezone(UTC)
    if args.emit_otlp:
        from shop import history

        spans = history.emit(
            args.otlp_endpoint,
            days=args.days,
            peak_per_minute=args.peak_per_minute,
            seed=args.seed,
            detailed=args.detailed,
        )
        print(f"emitted {spans} spans over {args.days:g} simulated days", file=sys.stderr)
        return 0
    schedule = arrivals(
        seed=args.seed,
        peak_rps=args.peak_rps,
        week_seconds=args.week_seconds,
        start=start,
        duration_s=args.duration,
    )
    stats = drive(args.target, schedule, concurrency=args.concurrency)
    summary: dict[str, Any] = {
        "sent": stats.sent,
        "statuses": dict(stats.statuses),
        "no_answer": stats.failed,
    }
    print(summary, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
