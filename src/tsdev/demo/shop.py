"""The demo shop (``examples/shop``): found in the checkout, started, driven and given a history.

The shop is an example project, not a dependency of tsdev, so it is imported from the repository
folder next to the installed sources; its OpenTelemetry packages come with ``uv sync``.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

SHOP_DIR = Path(__file__).resolve().parents[3] / "examples" / "shop"

# Above the detectors' default thresholds, so each deliberate problem is found in a short run: six
# item reads of 10 ms make an N+1 over 50 ms; the stub calls sum to 180 ms where the longest takes
# 70; one payment quote in eight times out. The payment timeout is generous because the shop, its
# stubs and tsdev share one process, and load must not look like flakiness.
DEMO_SHOP: dict[str, Any] = dict(
    db_latency_ms=10,
    user_latency_ms=50,
    recommendations_latency_ms=70,
    inventory_latency_ms=60,
    payment_latency_ms=2,
    payment_timeout_rate=0.12,
    payment_timeout_ms=400,
    orders_shown=6,
    seed=11,
)

FAST_REQUESTS = (*["checkout"] * 60, *["orders"] * 6, *["catalog"] * 4)
"""The ``--fast`` burst: enough payment calls for the flaky-step detector, a few N+1 pages."""
FAST_HOME_REQUESTS = 4
"""``GET /home`` requests sent one at a time in ``--fast``: concurrent load on one process would
stretch the gaps between its sequential calls past what the detector calls "one after another"."""


def shop_module(name: str) -> ModuleType:
    """``shop.<name>`` from the checkout's ``examples/shop`` (put on ``sys.path`` once)."""
    if not (SHOP_DIR / "shop" / "__init__.py").is_file():
        raise FileNotFoundError(f"the demo shop is not at {SHOP_DIR}; run tsdev demo from a checkout")
    if str(SHOP_DIR) not in sys.path:
        sys.path.insert(0, str(SHOP_DIR))
    return importlib.import_module(f"shop.{name}")


@dataclass(frozen=True)
class TrafficReport:
    """What the live traffic did: requests by kind and answers by status (``None``: no answer)."""

    by_kind: dict[str, int]
    by_status: dict[str, int]
    started_ns: int
    ended_ns: int

    @property
    def sent(self) -> int:
        return sum(self.by_kind.values())


def start_shop(otlp_url: str) -> Any:
    """The shop and its stubs on free ports, exporting to tsdev at ``otlp_url`` (a ``RunningShop``)."""
    config = shop_module("config").ShopConfig(otlp_endpoint=otlp_url, **DEMO_SHOP)
    return shop_module("server").start(config, port=0, stubs_port=0)


def drive_traffic(running: Any, *, minutes: float, fast: bool, seed: int = 11) -> TrafficReport:
    """Send the shop its traffic: a fixed burst in ``fast`` mode, else ``minutes`` of the traffic
    generator's daily and weekly shape compressed so the whole simulated week fits the run."""
    traffic = shop_module("traffic")
    started = _now_ns()
    now = datetime.now(UTC)
    if fast:
        requests = [
            traffic.Arrival(0.0, now, traffic.ShopRequest(kind, user_id=1 + i % 7, product_id=1 + i % 5))
            for i, kind in enumerate(FAST_REQUESTS)
        ]
        stats = traffic.drive(running.url, iter(requests), paced=False)
        homes = [
            traffic.Arrival(0.0, now, traffic.ShopRequest("home", user_id=1 + i, product_id=1))
            for i in range(FAST_HOME_REQUESTS)
        ]
        quiet = traffic.drive(running.url, iter(homes), concurrency=1, paced=False)
        stats.statuses.update(quiet.statuses)
        stats.by_kind.update(quiet.by_kind)
        stats.failed += quiet.failed
    else:
        seconds = max(minutes, 0.25) * 60
        schedule = traffic.arrivals(
            seed=seed, peak_rps=6.0, week_seconds=seconds, start=now, duration_s=seconds
        )
        stats = traffic.drive(running.url, schedule, concurrency=4)
    statuses = {str(code): count for code, count in sorted(stats.statuses.items())}
    if stats.failed:
        statuses["no answer"] = stats.failed
    return TrafficReport(dict(stats.by_kind), statuses, started, _now_ns())


def emit_history(otlp_url: str, *, days: float, peak_per_minute: float, seed: int = 7) -> int:
    """Write ``days`` of past shop traffic ending now as OTLP spans; returns the spans written.

    Forecasts need days of history and a demo cannot wait for them; the replay follows the same
    daily and weekly shape as the live traffic."""
    history = shop_module("history")
    written: int = history.emit(otlp_url, days=days, peak_per_minute=peak_per_minute, seed=seed)
    return written


def repo_copy(target: Path) -> Path:
    """A git repository at ``target`` holding the shop's sources in one commit, for the advisor.

    The advisor reads and patches a checkout; a copy keeps the real example untouched."""
    import shutil
    import subprocess

    shutil.copytree(SHOP_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache"))
    identity = ["-c", "user.name=tsdev demo", "-c", "user.email=demo@tsdev.invalid"]
    for command in (["init", "-q", "-b", "main"], ["add", "."], [*identity, "commit", "-q", "-m", "shop"]):
        subprocess.run(["git", *command], cwd=target, check=True, capture_output=True)
    return target


def _now_ns() -> int:
    import time

    return time.time_ns()
