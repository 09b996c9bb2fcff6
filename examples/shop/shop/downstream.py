"""The services the shop depends on, as stubs, and the payment call that is flaky on purpose.

The stubs answer after a fixed delay, like real services across a network. The payment stub hangs
past the shop's client timeout on a seeded share of calls (``timeout_rate``), so the shop sees the
intermittent ``ReadTimeout`` a struggling payment provider causes, while most calls succeed.
"""

from __future__ import annotations

import asyncio
import random
import threading
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import BaseModel

from shop.config import ShopConfig
from shop.telemetry import Telemetry


class Charge(BaseModel):
    user_id: int
    amount_cents: int


class PaymentTimeout(Exception):
    """The payment provider did not answer within the shop's timeout."""


def create_stubs_app(config: ShopConfig, telemetry: Telemetry | None = None) -> FastAPI:
    """User, recommendation, inventory and payment services in one small app."""
    app = FastAPI(title="shop stubs")
    rng = random.Random(config.seed)
    rng_lock = threading.Lock()
    hang_s = 2 * config.payment_timeout_ms / 1000

    async def pause(ms: float) -> None:
        if ms > 0:
            await asyncio.sleep(ms / 1000)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/users/{user_id}")
    async def user(user_id: int) -> dict[str, Any]:
        await pause(config.user_latency_ms)
        return {"id": user_id, "name": f"user {user_id}", "tier": "gold" if user_id % 5 == 0 else "standard"}

    @app.get("/recommendations")
    async def recommendations(user_id: int) -> dict[str, Any]:
        await pause(config.recommendations_latency_ms)
        return {"user_id": user_id, "product_ids": [(user_id * k) % 20 + 1 for k in (3, 7, 11)]}

    @app.get("/inventory")
    async def inventory(user_id: int) -> dict[str, Any]:
        await pause(config.inventory_latency_ms)
        return {"user_id": user_id, "in_stock": {str(p): (user_id + p) % 9 for p in range(1, 21)}}

    @app.post("/payments")
    async def payments(charge: Charge) -> dict[str, Any]:
        with rng_lock:
            hang = rng.random() < config.payment_timeout_rate
        await pause(hang_s * 1000 if hang else config.payment_latency_ms)
        return {"status": "paid", "user_id": charge.user_id, "amount_cents": charge.amount_cents}

    if telemetry is not None:
        telemetry.instrument_app(app)
    return app


def charge(client: httpx.Client, user_id: int, amount_cents: int, timeout_ms: float) -> dict[str, Any]:
    """Charge a user; no retry, so each provider hiccup fails the checkout (the flaky step)."""
    try:
        response = client.post(
            "/payments", json={"user_id": user_id, "amount_cents": amount_cents}, timeout=timeout_ms / 1000
        )
    except httpx.TimeoutException as exc:
        raise PaymentTimeout(f"payment provider did not answer within {timeout_ms:g} ms") from exc
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result
