"""The shop's SQLite store, with two of the deliberate problems.

- ``list_orders_with_items`` is an N+1: one SELECT for a user's orders, then one SELECT per order for
  its items, where a single ``WHERE order_id IN (...)`` (or a join) would do.
- ``read_catalog`` runs on every request and reads a table that never changes while the shop runs:
  a cache would answer almost all of those reads.

Each statement is delayed by ``latency_ms`` so the cost of a round trip to a database server shows in
the traces; SQLite itself answers in microseconds. The delay happens inside the cursor, so it falls
within the statement's span.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, price_cents INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, product_id INTEGER NOT NULL, quantity INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_by_user ON orders (user_id);
CREATE INDEX IF NOT EXISTS items_by_order ON items (order_id);
"""

USERS = 50
PRODUCTS = 20
ORDERS_PER_USER = 6


class _SlowCursor(sqlite3.Cursor):
    latency_s = 0.0
    """Set per cursor by :class:`_SlowConnection`."""

    def execute(self, sql: str, parameters: Any = (), /) -> _SlowCursor:
        if self.latency_s > 0:
            time.sleep(self.latency_s)
        super().execute(sql, parameters)
        return self


class _SlowConnection(sqlite3.Connection):
    """A connection whose cursors wait ``latency_s`` before each statement."""

    latency_s = 0.0

    # One signature instead of the stub's overloads: callers here never pass a factory.
    def cursor(self, factory: Any = None) -> _SlowCursor:  # type: ignore[override]
        cursor = super().cursor(_SlowCursor)
        cursor.latency_s = self.latency_s
        return cursor


@dataclass
class Database:
    """A database file in a directory of its own, seeded with demo data, removed by ``close``.

    A file in WAL mode rather than ``:memory:``: requests run on several threads, each with its own
    connection, and WAL lets them read while one writes."""

    path: Path
    latency_ms: float

    @classmethod
    def create(cls, seed: int, latency_ms: float) -> Database:
        path = Path(tempfile.mkdtemp(prefix="shop-db-")) / "shop.sqlite3"
        with closing(sqlite3.connect(path)) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            _seed(connection, seed)
        return cls(path, latency_ms)

    def connect(self) -> _SlowConnection:
        """A new connection for one request (SQLite connections are not shared across threads)."""
        connection = sqlite3.connect(self.path, timeout=10, factory=_SlowConnection, check_same_thread=False)
        connection.execute("PRAGMA synchronous=NORMAL")  # a demo's orders need not survive a power cut
        connection.latency_s = self.latency_ms / 1000
        return connection

    def close(self) -> None:
        shutil.rmtree(self.path.parent, ignore_errors=True)


def _seed(connection: sqlite3.Connection, seed: int) -> None:
    rng = random.Random(seed)
    connection.executescript(SCHEMA)
    connection.executemany(
        "INSERT INTO products (id, name, price_cents) VALUES (?, ?, ?)",
        [(i, f"product {i}", rng.randrange(199, 9999)) for i in range(1, PRODUCTS + 1)],
    )
    order_id = item_id = 0
    for user_id in range(1, USERS + 1):
        for _ in range(ORDERS_PER_USER):
            order_id += 1
            connection.execute(
                "INSERT INTO orders (id, user_id, created_at) VALUES (?, ?, ?)",
                (order_id, user_id, 1_700_000_000 + order_id),
            )
            for _ in range(rng.randint(1, 4)):
                item_id += 1
                connection.execute(
                    "INSERT INTO items (id, order_id, product_id, quantity) VALUES (?, ?, ?, ?)",
                    (item_id, order_id, rng.randint(1, PRODUCTS), rng.randint(1, 3)),
                )
    connection.commit()


def read_catalog(connection: Any) -> list[dict[str, Any]]:
    """Every product. Called on every request although the catalog does not change (cacheable)."""
    cursor = connection.cursor()
    cursor.execute("SELECT id, name, price_cents FROM products ORDER BY id")
    return [{"id": row[0], "name": row[1], "price_cents": row[2]} for row in cursor.fetchall()]


def list_orders_with_items(connection: Any, user_id: int, limit: int) -> list[dict[str, Any]]:
    """A user's latest orders with their items: one query for the orders, then one per order (N+1)."""
    cursor = connection.cursor()
    cursor.execute(
        "SELECT id, created_at FROM orders WHERE user_id = ? ORDER BY id DESC LIMIT ?", (user_id, limit)
    )
    orders = [{"id": row[0], "created_at": row[1], "items": []} for row in cursor.fetchall()]
    for order in orders:
        cursor.execute("SELECT product_id, quantity FROM items WHERE order_id = ?", (order["id"],))
        order["items"] = [{"product_id": row[0], "quantity": row[1]} for row in cursor.fetchall()]
    return orders


def place_order(connection: Any, user_id: int, product_id: int, quantity: int) -> int:
    """Record a paid order and return its id."""
    cursor = connection.cursor()
    cursor.execute("INSERT INTO orders (user_id, created_at) VALUES (?, ?)", (user_id, time.time()))
    order_id = int(cursor.lastrowid or 0)
    cursor.execute(
        "INSERT INTO items (order_id, product_id, quantity) VALUES (?, ?, ?)",
        (order_id, product_id, quantity),
    )
    connection.commit()
    return order_id
