"""The shop answers correctly and its traces have the shapes tsdev's detectors look for."""

from __future__ import annotations

import itertools
from collections import Counter

import httpx
from conftest import Shop
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode


def _children(spans: list[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    assert parent.context is not None
    children = [s for s in spans if s.parent is not None and s.parent.span_id == parent.context.span_id]
    return sorted(children, key=lambda s: s.start_time or 0)


def _server_span(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    return next(s for s in spans if s.kind is SpanKind.SERVER and s.name == name)


def test_orders_runs_one_items_query_per_order(shop: Shop) -> None:
    answer = httpx.get(f"{shop.url}/orders", params={"user_id": 3})

    assert answer.status_code == 200
    orders = answer.json()["orders"]
    assert len(orders) == 6
    assert all(item["name"].startswith("product ") for order in orders for item in order["items"])
    spans = shop.spans(1)
    statements = [
        (s.attributes or {}).get("db.statement") for s in _children(spans, _server_span(spans, "GET /orders"))
    ]
    assert statements == [
        "SELECT id, name, price_cents FROM products ORDER BY id",
        "SELECT id, created_at FROM orders WHERE user_id = ? ORDER BY id DESC LIMIT ?",
        *["SELECT product_id, quantity FROM items WHERE order_id = ?"] * 6,
    ]


def test_database_spans_carry_the_code_location_of_the_loop(shop: Shop) -> None:
    httpx.get(f"{shop.url}/orders", params={"user_id": 3})

    items = [s for s in shop.spans(1) if "items WHERE" in str((s.attributes or {}).get("db.statement"))]
    assert items
    assert {(s.attributes["code.function"], s.attributes["code.filepath"]) for s in items} == {  # type: ignore[index]
        ("list_orders_with_items", "shop/db.py")
    }
    assert isinstance(items[0].attributes["code.lineno"], int)  # type: ignore[index]


def test_home_calls_the_three_stubs_one_after_another(shop: Shop) -> None:
    answer = httpx.get(f"{shop.url}/home", params={"user_id": 5})

    assert answer.status_code == 200
    assert answer.json()["user"]["id"] == 5
    assert len(answer.json()["recommended"]) == 3
    spans = shop.spans(1)
    children = _children(spans, _server_span(spans, "GET /home"))
    calls = [s for s in children if s.name == "GET"]
    assert [str(s.attributes["http.url"]).split("/", 3)[3] for s in calls] == [  # type: ignore[index]
        "users/5",
        "recommendations?user_id=5",
        "inventory?user_id=5",
    ]
    for earlier, later in itertools.pairwise(calls):
        assert earlier.end_time is not None
        assert later.start_time is not None
        assert later.start_time >= earlier.end_time
    assert [(s.attributes["code.function"], s.attributes["code.filepath"]) for s in calls] == [  # type: ignore[index]
        ("fetch_user", "shop/downstream.py"),
        ("fetch_recommendations", "shop/downstream.py"),
        ("fetch_inventory", "shop/downstream.py"),
    ]
    assert children[-1].name == "SELECT"  # the catalog, read last on this page


def test_checkout_fails_when_the_payment_quote_times_out_now_and_then(shop: Shop) -> None:
    with httpx.Client(base_url=shop.url) as client:
        statuses = Counter(
            client.post("/checkout", json={"user_id": 1, "product_id": 2}).status_code for _ in range(20)
        )

    assert set(statuses) == {201, 504}, statuses
    calls = [s for s in shop.spans(20) if s.kind is SpanKind.CLIENT]
    quotes = [
        s
        for s in calls
        if s.name == "GET" and "/payments/quote?" in str((s.attributes or {}).get("http.url"))
    ]
    failed = [s for s in quotes if s.status.status_code is StatusCode.ERROR]
    assert len(quotes) == 20
    assert len(failed) == statuses[504]
    assert all(
        any((e.attributes or {}).get("exception.type") == "httpx.ReadTimeout" for e in s.events)
        for s in failed
    )
    assert {(s.attributes or {}).get("code.function") for s in quotes} == {"quote"}
    # The charge, a write, follows each quote that answered, and never fails.
    charges = [s for s in calls if s.name == "POST"]
    assert len(charges) == statuses[201]
    assert all(s.status.status_code is not StatusCode.ERROR for s in charges)


def test_checkout_refuses_an_unknown_product(shop: Shop) -> None:
    answer = httpx.post(f"{shop.url}/checkout", json={"user_id": 1, "product_id": 999})

    assert answer.status_code == 404


def test_every_request_reads_the_whole_catalog(shop: Shop) -> None:
    with httpx.Client(base_url=shop.url) as client:
        client.get("/catalog")
        client.get("/orders", params={"user_id": 1})
        client.get("/home", params={"user_id": 1})

    spans = shop.spans(3)
    servers = [s for s in spans if s.kind is SpanKind.SERVER]
    assert len(servers) == 3
    for parent in servers:
        statements = [(s.attributes or {}).get("db.statement") for s in _children(spans, parent)]
        assert statements.count("SELECT id, name, price_cents FROM products ORDER BY id") == 1
