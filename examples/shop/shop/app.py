"""The shop's HTTP API, with the deliberate problems in plain sight.

============================ ==========================================================================
endpoint                     problem
============================ ==========================================================================
every endpoint               reads the whole catalog from the database (cacheable)
``GET /orders``              one SELECT per order for its items (N+1, in :mod:`shop.db`)
``GET /home``                user, recommendations and inventory fetched one after another although
                             none needs another's answer (parallelizable)
``POST /checkout``           asks the payment provider for a quote once, without retry (flaky step),
                             then charges
============================ ==========================================================================

Most handlers are synchronous, the way much of the code tsdev is pointed at is written; FastAPI runs
them on its thread pool. ``GET /home`` is async, with an async client, yet awaits its three calls one
after another.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel

from shop import db
from shop.config import ShopConfig
from shop.downstream import (
    PaymentTimeout,
    charge,
    fetch_inventory,
    fetch_recommendations,
    fetch_user,
    quote,
)
from shop.telemetry import Telemetry

logger = logging.getLogger("shop")


class CheckoutRequest(BaseModel):
    user_id: int
    product_id: int
    quantity: int = 1


@dataclass
class ShopState:
    """What the handlers share: configuration, database, the stubs' clients, telemetry."""

    config: ShopConfig
    database: db.Database
    stubs: httpx.Client
    async_stubs: httpx.AsyncClient
    telemetry: Telemetry | None


def _state(request: Request) -> ShopState:
    state: ShopState = request.app.state.shop
    return state


State = Annotated[ShopState, Depends(_state)]


def _connection(state: State) -> Iterator[Any]:
    raw = state.database.connect()
    try:
        yield state.telemetry.instrument_connection(raw) if state.telemetry is not None else raw
    finally:
        raw.close()


Connection = Annotated[Any, Depends(_connection)]


def _catalog(conn: Connection) -> list[dict[str, Any]]:
    return db.read_catalog(conn)


Catalog = Annotated[list[dict[str, Any]], Depends(_catalog)]

router = APIRouter()


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/catalog")
def list_catalog(products: Catalog) -> list[dict[str, Any]]:
    return products


@router.get("/orders")
def orders(user_id: int, state: State, conn: Connection, products: Catalog) -> dict[str, Any]:
    names = {p["id"]: p["name"] for p in products}
    found = db.list_orders_with_items(conn, user_id, state.config.orders_shown)
    for order in found:
        for item in order["items"]:
            item["name"] = names.get(item["product_id"], "?")
    logger.info("listed %d orders for user %d", len(found), user_id)
    return {"user_id": user_id, "orders": found}


@router.get("/home")
async def home(user_id: int, state: State, conn: Connection) -> dict[str, Any]:
    stubs = state.async_stubs
    user = await fetch_user(stubs, user_id)
    recommended = await fetch_recommendations(stubs, user_id)
    stock = await fetch_inventory(stubs, user_id)
    # The catalog is read here, when the page is put together, rather than up front like elsewhere;
    # on a worker thread, as the database driver blocks.
    by_id = {p["id"]: p for p in await asyncio.to_thread(db.read_catalog, conn)}
    return {
        "user": user,
        "recommended": [
            {**by_id[p], "in_stock": stock["in_stock"].get(str(p), 0)}
            for p in recommended["product_ids"]
            if p in by_id
        ],
    }


@router.post("/checkout", status_code=201)
def checkout(order: CheckoutRequest, state: State, conn: Connection, products: Catalog) -> dict[str, Any]:
    product = next((p for p in products if p["id"] == order.product_id), None)
    if product is None:
        raise HTTPException(404, f"no product {order.product_id}")
    amount = product["price_cents"] * order.quantity
    try:
        quote(state.stubs, secrets.token_hex(8), order.user_id, amount, state.config.payment_timeout_ms)
    except PaymentTimeout as exc:
        logger.warning("checkout failed for user %d: %s", order.user_id, exc)
        raise HTTPException(504, "payment provider timed out") from exc
    charge(state.stubs, order.user_id, amount)
    order_id = db.place_order(conn, order.user_id, order.product_id, order.quantity)
    logger.info("order %d placed for user %d: %d cents", order_id, order.user_id, amount)
    return {"order_id": order_id, "amount_cents": amount}


def create_app(config: ShopConfig, stubs_url: str, telemetry: Telemetry | None = None) -> FastAPI:
    """The shop, calling the stubs at ``stubs_url``; ``telemetry`` instruments it when given."""
    state = ShopState(
        config=config,
        database=db.Database.create(config.seed, config.db_latency_ms),
        stubs=httpx.Client(base_url=stubs_url, timeout=5.0),
        async_stubs=httpx.AsyncClient(base_url=stubs_url, timeout=5.0),
        telemetry=telemetry,
    )
    if telemetry is not None:
        telemetry.instrument_client(state.stubs)
        telemetry.instrument_client(state.async_stubs)
        telemetry.export_logs(logger)
    logger.setLevel(logging.INFO)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await state.async_stubs.aclose()
        state.stubs.close()
        state.database.close()

    app = FastAPI(title="shop", lifespan=lifespan)
    app.state.shop = state
    app.include_router(router)
    if telemetry is not None:
        telemetry.instrument_app(app)
    return app
