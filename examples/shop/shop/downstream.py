"""The services the shop depends on, as stubs, and the shop's calls to them.

The stubs answer after a fixed delay, like real services across a network. Before charging, the
checkout asks the payment provider for a quote (an authorization and risk check for that checkout,
a read). The quote stub hangs past the shop's client timeout on a seeded share of calls
(``payment_timeout_rate``), so the shop sees the intermittent ``ReadTimeout`` a struggling payment
provider causes, while most calls succeed; that call is the flaky step. The charge itself, a write,
answers reliably.

The payment provider's routes sit under a router prefix, so the shop's code names the path
``/payments/quote`` only where it calls it.
"""

from __future__ import annotations

import asyncio
import random
import threading
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI
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
    provider = APIRouter(prefix="/payments")
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

    @provider.get("/quote")
    async def payment_quote(checkout_id: str, user_id: int, amount_cents: int) -> dict[str, Any]:
        with rng_lock:
            hang = rng.random() < config.payment_timeout_rate
        await pause(hang_s * 1000 if hang else config.payment_latency_ms)
        return {
            "checkout_id": checkout_id,
            "user_id": user_id,
            "amount_cents": amount_cents,
            "approved": True,
        }

    @provider.post("")
    async def payments(charge: Charge) -> dict[str, Any]:
        await pause(config.payment_latency_ms)
        return {"status": "paid", "user_id": charge.user_id, "amount_cents": charge.amount_cents}

    app.include_router(provider)
    if telemetry is not None:
        telemetry.instrument_app(app)
    return app


def quote(
    client: httpx.Client, checkout_id: str, user_id: int, amount_cents: int, timeout_ms: float
) -> dict[str, Any]:
    """Ask the payment provider to authorize one checkout's charge (a read: it changes nothing, and
    each checkout asks once, so there is nothing to cache). No retry, so each provider hiccup fails
    the checkout (the flaky step)."""
    try:
        response = client.get(
            "/payments/quote",
            params={"checkout_id": checkout_id, "user_id": user_id, "amount_cents": amount_cents},
            timeout=timeout_ms / 1000,
        )
    except httpx.TimeoutException as exc:
        raise PaymentTimeout(f"payment provider did not answer within {timeout_ms:g} ms") from exc
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def charge(client: httpx.Client, user_id: int, amount_cents: int) -> dict[str, Any]:
    """Charge a user (a write, once per checkout; the provider answers it reliably)."""
    response = client.post("/payments", json={"user_id": user_id, "amount_cents": amount_cents})
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


async def fetch_user(client: httpx.AsyncClient, user_id: int) -> dict[str, Any]:
    response = await client.get(f"/users/{user_id}")
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


async def fetch_recommendations(client: httpx.AsyncClient, user_id: int) -> dict[str, Any]:
    response = await client.get("/recommendations", params={"user_id": user_id})
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


async def fetch_inventory(client: httpx.AsyncClient, user_id: int) -> dict[str, Any]:
    response = await client.get("/inventory", params={"user_id": user_id})
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result
