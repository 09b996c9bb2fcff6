"""The corpus app: one endpoint per scenario of :mod:`.manifest`, written the way application code is.

Requests carry a request number ``n``, which picks the user, cart or order a request is about.
Database work goes through SQLite connections wrapped by the OpenTelemetry sqlite3 instrumentation,
downstream calls through httpx clients wrapped by the httpx instrumentation, and the server span of
each request comes from the FastAPI instrumentation. A few spans are the app's own, opened with the
SDK's tracer: GraphQL-style resolver spans, workflow run and step spans (``tsdev.workflow.*``), and
the commands of a redis cache client, which carry the attributes the OpenTelemetry redis
instrumentation sets (span named after the command, ``db.system=redis``, the statement with its
arguments masked, peer address and database index).

Each connection waits ``latency_ms`` before every statement it runs (SQLite's trace callback, so
the wait is inside the statement's span), standing for the round trip to a database server; the
cache client does the same for a cache server. SQLite itself answers in microseconds.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI, HTTPException, Request
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind, Tracer
from opentelemetry.util.types import AttributeValue

from tests.analysis.corpus.manifest import Scenario

SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL);
CREATE TABLE items (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, product_id INTEGER, quantity INTEGER);
CREATE TABLE payments (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, amount INTEGER NOT NULL);
CREATE TABLE shipments (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, status TEXT NOT NULL);
CREATE TABLE reviews (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, stars INTEGER NOT NULL);
CREATE TABLE posts (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL);
CREATE TABLE comments (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE invoices (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, total INTEGER NOT NULL);
CREATE TABLE deliveries (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, status TEXT NOT NULL);
CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price_cents INTEGER NOT NULL);
CREATE TABLE flags (name TEXT PRIMARY KEY, enabled INTEGER NOT NULL);
CREATE TABLE visits (id INTEGER PRIMARY KEY, page TEXT NOT NULL);
CREATE TABLE signups (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);
CREATE INDEX orders_by_user ON orders (user_id);
CREATE INDEX items_by_order ON items (order_id);
"""

USERS = 20
ORDERS_PER_USER = 12
TAKEN_EMAIL = "taken@example.com"


class Database:
    """A seeded SQLite file in a directory of its own (WAL, so concurrent requests can read while one
    writes); ``close`` removes it."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="tsdev-corpus-db-")) / "corpus.sqlite3"
        with closing(sqlite3.connect(self.path)) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(SCHEMA)
            _seed(connection)
            connection.commit()

    @contextmanager
    def cursor(self, provider: TracerProvider, latency_ms: float) -> Iterator[Any]:
        """A traced cursor on a connection of its own, each statement ``latency_ms`` away."""
        raw = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
        raw.execute("PRAGMA synchronous=NORMAL")  # commits need not survive a power cut here
        if latency_ms > 0:
            raw.set_trace_callback(lambda _: time.sleep(latency_ms / 1000))
        cursor = SQLite3Instrumentor.instrument_connection(raw, tracer_provider=provider).cursor()
        try:
            yield cursor
            raw.commit()
        finally:
            # Closed explicitly: after a failed statement the traced cursor sits in a reference cycle,
            # and until the garbage collector frees it the connection keeps its write lock.
            cursor.close()
            raw.close()

    def close(self) -> None:
        shutil.rmtree(self.path.parent, ignore_errors=True)


def _seed(connection: sqlite3.Connection) -> None:
    rows = connection.executemany
    rows("INSERT INTO users (id, name) VALUES (?, ?)", [(u, f"user {u}") for u in range(1, 61)])
    orders = [(u * 100 + i, u) for u in range(1, USERS + 1) for i in range(ORDERS_PER_USER)]
    rows("INSERT INTO orders (id, user_id) VALUES (?, ?)", orders)
    items = [(order * 10 + k, order, 1 + (order + k) % 20, 1 + k) for order, _ in orders for k in range(2)]
    rows("INSERT INTO items (id, order_id, product_id, quantity) VALUES (?, ?, ?, ?)", items)
    for table, column, value in (("payments", "amount", 1200), ("shipments", "status", "'sent'")):
        connection.execute(  # constant names and values only
            f"INSERT INTO {table} (user_id, {column}) SELECT id, {value} FROM users"
        )
    connection.execute("INSERT INTO reviews (user_id, stars) SELECT id, 1 + id % 5 FROM users")
    rows("INSERT INTO posts (id, author_id) VALUES (?, ?)", [(p, 1 + p % 50) for p in range(1, 41)])
    rows(
        "INSERT INTO comments (post_id, body) VALUES (?, ?)",
        [(1 + c % 40, f"comment {c}") for c in range(80)],
    )
    accounts = [(a, 100 * a) for a in range(1, 21)]
    rows("INSERT INTO invoices (account_id, total) VALUES (?, ?)", accounts)
    rows("INSERT INTO deliveries (account_id, status) VALUES (?, 'on its way')", [(a,) for a, _ in accounts])
    rows(
        "INSERT INTO products (id, name, price_cents) VALUES (?, ?, ?)",
        [(p, f"product {p}", 199 + 50 * p) for p in range(1, 21)],
    )
    rows("INSERT INTO flags (name, enabled) VALUES (?, ?)", [("new-checkout", 1), ("dark-mode", 0)])
    connection.execute("INSERT INTO signups (email) VALUES (?)", (TAKEN_EMAIL,))


@dataclass
class CacheClient:
    """A redis client's spans for a cache ``latency_ms`` away; the values live in a dict."""

    tracer: Tracer
    latency_ms: float
    values: dict[str, str] = field(default_factory=dict)

    def get(self, key: str) -> str | None:
        attributes: dict[str, AttributeValue] = {
            "db.system": "redis",
            "db.statement": "GET ?",
            "db.redis.args_length": 2,
            "db.redis.database_index": 0,
            "net.peer.name": "cache",
            "net.peer.port": 6379,
            "net.transport": "ip_tcp",
        }
        with self.tracer.start_as_current_span("GET", kind=SpanKind.CLIENT, attributes=attributes):
            time.sleep(self.latency_ms / 1000)
            return self.values.get(key)


@dataclass
class Context:
    """What one scenario's endpoint works with: its telemetry, the database and the downstream
    services."""

    provider: TracerProvider
    database: Database
    client: httpx.Client
    async_client: httpx.AsyncClient

    @property
    def tracer(self) -> Tracer:
        return self.provider.get_tracer("tests.analysis.corpus")

    def cursor(self, latency_ms: float) -> Any:
        return self.database.cursor(self.provider, latency_ms)


def _context(request: Request) -> Context:
    context: Context = request.app.state.context
    return context


Ctx = Annotated[Context, Depends(_context)]


def _failed(response: httpx.Response) -> None:
    if response.status_code >= 500:
        raise HTTPException(502, f"{response.url.path} answered {response.status_code}")


# -- n_plus_one --------------------------------------------------------------------------------------


def _orders_with_items(ctx: Context, n: int, orders: int, latency_ms: float) -> list[list[Any]]:
    with ctx.cursor(latency_ms) as cursor:
        cursor.execute("SELECT id FROM orders WHERE user_id = ? ORDER BY id LIMIT ?", (n, orders))
        found = [row[0] for row in cursor.fetchall()]
        items = []
        for order in found:
            cursor.execute("SELECT product_id, quantity FROM items WHERE order_id = ?", (order,))
            items.append(cursor.fetchall())
    return items


def orders_loop(n: int, ctx: Ctx) -> dict[str, Any]:
    return {"orders": _orders_with_items(ctx, n, 8, latency_ms=8)}


def four_repeats(n: int, ctx: Ctx) -> dict[str, Any]:
    return {"orders": _orders_with_items(ctx, n, 4, latency_ms=30)}


def fast_repeats(n: int, ctx: Ctx) -> dict[str, Any]:
    # The database file is local: the ten queries take a few milliseconds together, no sleeping.
    # (A simulated round trip per query would make them at the mercy of how late a busy machine wakes
    # a sleeping thread, ten times over.)
    return {"orders": _orders_with_items(ctx, n, 10, latency_ms=0)}


def redis_repeats(n: int, ctx: Ctx) -> dict[str, Any]:
    with ctx.cursor(latency_ms=8) as cursor:
        cursor.execute("SELECT id FROM orders WHERE user_id = ? ORDER BY id LIMIT 10", (n,))
        found = [row[0] for row in cursor.fetchall()]
    cache = CacheClient(ctx.tracer, latency_ms=20)
    return {"orders": [cache.get(f"order:{order}") for order in found]}


def query_waterfall(n: int, ctx: Ctx) -> dict[str, Any]:
    statements = (
        "SELECT name FROM users WHERE id = ?",
        "SELECT id FROM orders WHERE user_id = ?",
        "SELECT count(*) FROM items JOIN orders ON orders.id = items.order_id WHERE orders.user_id = ?",
        "SELECT sum(amount) FROM payments WHERE user_id = ?",
        "SELECT status FROM shipments WHERE user_id = ?",
        "SELECT avg(stars) FROM reviews WHERE user_id = ?",
    )
    answers = []
    with ctx.cursor(latency_ms=20) as cursor:
        for statement in statements:
            cursor.execute(statement, (n,))
            answers.append(cursor.fetchall())
    return {"dashboard": answers}


def cart_http_loop(n: int, ctx: Ctx) -> dict[str, Any]:
    lines = [n * 100 + line for line in range(6)]
    return {"stock": [ctx.client.get(f"/inventory/items/{sku}").json() for sku in lines]}


async def concurrent_prices(n: int, ctx: Ctx) -> dict[str, Any]:
    skus = [n * 100 + item for item in range(6)]
    answers = await asyncio.gather(*(ctx.async_client.get(f"/prices/{sku}") for sku in skus))
    return {"prices": [answer.json() for answer in answers]}


def feed_resolvers(n: int, ctx: Ctx) -> dict[str, Any]:
    posts = []
    with ctx.cursor(latency_ms=8) as cursor:
        cursor.execute("SELECT id, author_id FROM posts ORDER BY id LIMIT 4 OFFSET ?", (4 * n,))
        for post, author in cursor.fetchall():
            with ctx.tracer.start_as_current_span("Post.resolve"):
                cursor.execute("SELECT name FROM users WHERE id = ?", (author,))
                name = cursor.fetchone()
                cursor.execute("SELECT body FROM comments WHERE post_id = ?", (post,))
                posts.append({"post": post, "author": name, "comments": cursor.fetchall()})
    return {"posts": posts}


# -- flaky_step --------------------------------------------------------------------------------------


def _quote(ctx: Context, service: str, n: int, timeout_s: float) -> dict[str, Any]:
    try:
        response = ctx.client.get(f"/{service}?checkout={n}", timeout=timeout_s)
    except httpx.TimeoutException as exc:
        raise HTTPException(504, "payment provider timed out") from exc
    _failed(response)
    return {"quote": response.json()}


def quote_timeouts(n: int, ctx: Ctx) -> dict[str, Any]:
    return _quote(ctx, "quote", n, timeout_s=0.15)


def too_few_runs(n: int, ctx: Ctx) -> dict[str, Any]:
    return _quote(ctx, "quote-few", n, timeout_s=0.15)


def quote_outage(n: int, ctx: Ctx) -> dict[str, Any]:
    return _quote(ctx, "quote-outage", n, timeout_s=1.0)


def charge_retries(n: int, ctx: Ctx) -> dict[str, Any]:
    response = ctx.client.post("/charges", json={"order": n})
    if response.status_code == 503:
        response = ctx.client.post("/charges", json={"order": n})
    _failed(response)
    return {"charge": response.json()}


def always_fails(n: int, ctx: Ctx) -> dict[str, Any]:
    response = ctx.client.get(f"/legacy-stock/{n}")
    _failed(response)
    return {"stock": response.json()}


def signup_bug(n: int, ctx: Ctx) -> dict[str, Any]:
    # The form fills in a remembered address for every tenth visitor: a bug, whatever the load.
    email = TAKEN_EMAIL if n % 10 == 5 else f"user{n}@example.com"
    try:
        with ctx.cursor(latency_ms=2) as cursor:
            cursor.execute("INSERT INTO signups (email) VALUES (?)", (email,))
    except sqlite3.IntegrityError as exc:
        raise HTTPException(409, "already signed up") from exc
    return {"email": email}


# -- parallelizable ----------------------------------------------------------------------------------


async def _user_page(ctx: Context, user_id: int, services: tuple[str, ...]) -> dict[str, Any]:
    """A page built from several services' answers about one user, awaited one after another."""
    page = {}
    for service in services:
        page[service] = (await ctx.async_client.get(f"/{service}/{user_id}")).json()
    return page


async def profile_awaits(n: int, ctx: Ctx) -> dict[str, Any]:
    return await _user_page(ctx, 40 + n, ("users", "prefs", "recs"))


def summary_order_varies(n: int, ctx: Ctx) -> dict[str, Any]:
    statements = [
        "SELECT total FROM invoices WHERE account_id = ?",
        "SELECT status FROM deliveries WHERE account_id = ?",
    ]
    if n % 2 == 0:  # the billing view shows deliveries first
        statements.reverse()
    answers = {}
    with ctx.cursor(latency_ms=120) as cursor:
        for statement in statements:
            cursor.execute(statement, (n,))
            answers[statement] = cursor.fetchall()
    return {"summary": list(answers.values())}


def _report(ctx: Context, n: int, *, declared: bool) -> dict[str, Any]:
    depends = {"tsdev.workflow.depends_on": ""} if declared else {}
    parts = {}
    with ctx.tracer.start_as_current_span("report", attributes={"tsdev.workflow.name": "report"}):
        for step, service in (("sales", "sales"), ("stock", "stock-levels")):
            attributes = {"tsdev.workflow.step": step, **depends}
            with ctx.tracer.start_as_current_span(f"fetch {step}", attributes=attributes):
                parts[step] = ctx.client.get(f"/{service}/{n}").json()
    return parts


def report_workflow(n: int, ctx: Ctx) -> dict[str, Any]:
    return _report(ctx, n, declared=True)


def undeclared_steps(n: int, ctx: Ctx) -> dict[str, Any]:
    return _report(ctx, n, declared=False)


async def dependent_calls(n: int, ctx: Ctx) -> dict[str, Any]:
    member = (await ctx.async_client.get(f"/members/{40 + n}")).json()
    account_id = member["account_id"]
    account = await ctx.async_client.get(f"/accounts/{account_id}")
    ledger = await ctx.async_client.get(f"/ledger/{account_id}")
    return {"member": member, "account": account.json(), "ledger": ledger.json()}


async def small_saving(n: int, ctx: Ctx) -> dict[str, Any]:
    return await _user_page(ctx, 40 + n, ("avatars", "badges", "streaks"))


# -- cacheable ---------------------------------------------------------------------------------------


def catalog_reads(n: int, ctx: Ctx) -> dict[str, Any]:
    with ctx.cursor(latency_ms=5) as cursor:
        cursor.execute("SELECT id, name, price_cents FROM products ORDER BY id")
        return {"request": n, "products": cursor.fetchall()}


def rate_reads(n: int, ctx: Ctx) -> dict[str, Any]:
    rate = ctx.client.get("/rates/EUR").json()
    return {"request": n, "rate": rate}


def _flags(ctx: Context) -> dict[str, int]:
    with ctx.cursor(latency_ms=5) as cursor:
        cursor.execute("SELECT name, enabled FROM flags")
        return dict(cursor.fetchall())


def flags_memo(n: int, ctx: Ctx) -> dict[str, Any]:
    allowed = _flags(ctx)  # the permission check reads the flags ...
    rendered = _flags(ctx)  # ... and so does the page template, again
    return {"request": n, "allowed": allowed, "rendered": rendered}


def counter_writes(n: int, ctx: Ctx) -> dict[str, Any]:
    with ctx.cursor(latency_ms=3) as cursor:
        cursor.execute("SELECT count(*) FROM visits")
        seen = cursor.fetchone()[0]
        cursor.execute("INSERT INTO visits (page) VALUES (?)", (f"/visits?n={n}",))
    return {"visits": seen + 1}


ENDPOINTS: dict[str, Callable[..., Any]] = {
    "orders-loop": orders_loop,
    "cart-http-loop": cart_http_loop,
    "concurrent-prices": concurrent_prices,
    "feed-resolvers": feed_resolvers,
    "four-repeats": four_repeats,
    "fast-repeats": fast_repeats,
    "redis-repeats": redis_repeats,
    "query-waterfall": query_waterfall,
    "quote-timeouts": quote_timeouts,
    "charge-retries": charge_retries,
    "always-fails": always_fails,
    "quote-outage": quote_outage,
    "too-few-runs": too_few_runs,
    "signup-bug": signup_bug,
    "profile-awaits": profile_awaits,
    "summary-order-varies": summary_order_varies,
    "report-workflow": report_workflow,
    "dependent-calls": dependent_calls,
    "undeclared-steps": undeclared_steps,
    "small-saving": small_saving,
    "catalog-reads": catalog_reads,
    "rate-reads": rate_reads,
    "flags-memo": flags_memo,
    "counter-writes": counter_writes,
}
"""The endpoint of each scenario, by scenario name."""


def create_app(scenario: Scenario, context: Context) -> FastAPI:
    """The scenario's service: its one endpoint, instrumented with the context's tracer provider."""
    app = FastAPI(title=scenario.name)
    app.state.context = context
    app.add_api_route(scenario.path, ENDPOINTS[scenario.name], methods=[scenario.method])
    HTTPXClientInstrumentor.instrument_client(context.client, tracer_provider=context.provider)
    HTTPXClientInstrumentor.instrument_client(context.async_client, tracer_provider=context.provider)
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=context.provider, exclude_spans=["receive", "send"]
    )
    return app
