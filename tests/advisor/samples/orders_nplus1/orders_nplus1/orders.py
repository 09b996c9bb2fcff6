"""Order history: one query for the orders, then one per order for its items."""

from __future__ import annotations

from typing import Any

ITEMS = {1: ["book"], 2: ["pen", "ink"], 3: ["lamp"]}
QUERIES = {"count": 0}


def query(sql: str, *params: Any) -> list[Any]:
    QUERIES["count"] += 1
    if "FROM orders" in sql:
        return [1, 2, 3]
    if "IN" in sql:
        return [(order_id, item) for order_id in params for item in ITEMS[order_id]]
    return list(ITEMS[params[0]])


def order_history(user_id: int) -> dict[int, list[str]]:
    orders = query("SELECT id FROM orders WHERE user_id = ?", user_id)
    history = {}
    for order_id in orders:
        history[order_id] = query("SELECT name FROM items WHERE order_id = ?", order_id)
    return history
