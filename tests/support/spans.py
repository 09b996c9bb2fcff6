"""Span builders: small, explicit traces for detector tests and the bench corpus.

``TraceBuilder`` lays spans out in milliseconds relative to the trace start and fills every column of
the span frame (see :mod:`tsdev.analysis.spans`), so a test states only what matters to it. Ids are
deterministic (a counter), which keeps example trace ids in asserted findings literal.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import pyarrow as pa

from tsdev.analysis.spans import SPAN_SCHEMA

BASE_NS = 1_750_000_000_000_000_000
"""2025-06-15T15:06:40Z: every built trace starts at or after this instant."""

MS = 1_000_000

_trace_counter = itertools.count(1)


def trace_id(number: int) -> str:
    return f"{number:032x}"


@dataclass
class TraceBuilder:
    """One trace; ``start_ms`` offsets the whole trace from :data:`BASE_NS`."""

    number: int = field(default_factory=lambda: next(_trace_counter))
    start_ms: float = 0.0
    service: str = "shop"
    version: str = "1.0.0"
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def trace_id(self) -> str:
        return trace_id(self.number)

    def span(
        self,
        name: str,
        *,
        parent: str | None = None,
        at_ms: float = 0.0,
        duration_ms: float = 1.0,
        kind: str = "Internal",
        service: str | None = None,
        status: str = "Unset",
        **columns: Any,
    ) -> str:
        """Add a span and return its id; ``columns`` sets any other span-frame column."""
        span_id = f"{self.number:08x}{len(self.rows) + 1:08x}"
        start = BASE_NS + round((self.start_ms + at_ms) * MS)
        duration = round(duration_ms * MS)
        row: dict[str, Any] = {
            "trace_id": self.trace_id,
            "span_id": span_id,
            "parent_span_id": parent or "",
            "name": name,
            "kind": kind,
            "service": service or self.service,
            "service_version": self.version,
            "start_ns": start,
            "end_ns": start + duration,
            "duration_ns": duration,
            "status": status,
        }
        row.update(columns)
        self.rows.append(row)
        return span_id

    def server(self, route: str, *, duration_ms: float = 500.0, method: str = "GET", **columns: Any) -> str:
        return self.span(
            f"{method} {route}",
            kind="Server",
            duration_ms=duration_ms,
            http_method=method,
            http_route=route,
            **columns,
        )

    def db(
        self,
        statement: str,
        *,
        parent: str,
        at_ms: float,
        duration_ms: float,
        system: str = "postgresql",
        **columns: Any,
    ) -> str:
        name = statement.split()[0].upper() if statement else "query"
        return self.span(
            name,
            parent=parent,
            at_ms=at_ms,
            duration_ms=duration_ms,
            kind="Client",
            db_system=system,
            db_statement=statement,
            **columns,
        )

    def http(
        self, method: str, url: str, *, parent: str, at_ms: float, duration_ms: float, **columns: Any
    ) -> str:
        return self.span(
            method,
            parent=parent,
            at_ms=at_ms,
            duration_ms=duration_ms,
            kind="Client",
            http_method=method,
            http_url=url,
            **columns,
        )

    def redis(self, command: str, *, parent: str, at_ms: float, duration_ms: float) -> str:
        return self.span(
            command.split()[0],
            parent=parent,
            at_ms=at_ms,
            duration_ms=duration_ms,
            kind="Client",
            db_system="redis",
            db_statement=command,
        )


def frame(traces: Iterable[TraceBuilder]) -> pl.DataFrame:
    """The span frame of several traces, every column typed as :data:`SPAN_SCHEMA` says."""
    rows = [row for trace in traces for row in trace.rows]
    return frame_from_rows(rows)


def frame_from_rows(rows: list[dict[str, Any]]) -> pl.DataFrame:
    defaults: dict[str, Any] = {
        name: ([] if isinstance(dtype, pl.List) else "" if dtype in (pl.String(), pl.Categorical()) else None)
        for name, dtype in SPAN_SCHEMA.items()
    }
    defaults["workflow_depends_on"] = None
    full = [{**defaults, **row} for row in rows]
    return pl.DataFrame(full, schema=SPAN_SCHEMA)


_NEW_NAMES: Mapping[str, str] = {
    "db_system": "db.system.name",
    "db_statement": "db.query.text",
    "http_method": "http.request.method",
    "http_url": "url.full",
    "http_route": "http.route",
    "server_address": "server.address",
    "http_status": "http.response.status_code",
    "code_function": "code.function.name",
    "code_filepath": "code.file.path",
    "code_lineno": "code.line.number",
    "workflow_name": "tsdev.workflow.name",
    "workflow_step": "tsdev.workflow.step",
    "workflow_depends_on": "tsdev.workflow.depends_on",
}
OLD_NAMES: Mapping[str, str] = {
    **_NEW_NAMES,
    "db_system": "db.system",
    "db_statement": "db.statement",
    "http_method": "http.method",
    "http_url": "http.url",
    "http_status": "http.status_code",
    "code_function": "code.function",
    "code_filepath": "code.filepath",
    "code_lineno": "code.lineno",
}
_MAP = pa.map_(pa.string(), pa.string())


def _map_array(frame: pl.DataFrame, names: Mapping[str, str]) -> pa.Array:
    """A ``Map(String, String)`` column with one entry per non-empty attribute column."""
    entries = pl.concat_list(
        [pl.struct(key=pl.lit(key), value=pl.col(column).cast(pl.String)) for column, key in names.items()]
    ).list.eval(pl.element().filter(pl.element().struct.field("value").is_not_null()))
    entries = entries.list.eval(
        pl.element().filter(
            (pl.element().struct.field("value") != "")
            | (pl.element().struct.field("key") == "tsdev.workflow.depends_on")
        )
    )
    lists = frame.select(entries.alias("m")).to_arrow()["m"].combine_chunks()
    lists = lists.cast(pa.large_list(pa.struct([("key", pa.string()), ("value", pa.string())])))
    offsets = pa.array(lists.offsets.to_numpy().astype("int32"))
    structs = lists.values
    return pa.MapArray.from_arrays(offsets, structs.field("key"), structs.field("value"), type=_MAP)


def otel_arrow(spans: pl.DataFrame, *, names: Mapping[str, str] = _NEW_NAMES) -> pa.Table:
    """The ``otel_traces`` rows (as the Collector's exporter writes them) for a span frame."""
    n = spans.height
    base = spans.select(
        pl.from_epoch(pl.col("start_ns"), time_unit="ns").alias("Timestamp"),
        pl.col("trace_id").alias("TraceId"),
        pl.col("span_id").alias("SpanId"),
        pl.col("parent_span_id").alias("ParentSpanId"),
        pl.lit("").alias("TraceState"),
        pl.col("name").alias("SpanName"),
        pl.col("kind").alias("SpanKind"),
        pl.col("service").alias("ServiceName"),
        pl.lit("tests").alias("ScopeName"),
        pl.lit("").alias("ScopeVersion"),
        pl.col("duration_ns").cast(pl.UInt64).alias("Duration"),
        pl.col("status").alias("StatusCode"),
        pl.col("status_message").alias("StatusMessage"),
    ).to_arrow()
    resource_frame = spans.select(
        pl.col("service").alias("service.name"), pl.col("service_version").alias("service.version")
    )
    resource = _map_array(
        resource_frame, {"service.name": "service.name", "service.version": "service.version"}
    )
    attributes = _map_array(spans, names)
    events = spans.select(
        pl.col("exception_types").list.eval(pl.lit("exception")).alias("names"),
        pl.col("exception_types").list.eval(pl.from_epoch(pl.lit(0), time_unit="ns")).alias("times"),
    ).to_arrow()
    exc_lists = spans.select("exception_types").to_arrow()["exception_types"].combine_chunks()
    exc_lists = exc_lists.cast(pa.large_list(pa.string()))
    exc_offsets = pa.array(exc_lists.offsets.to_numpy().astype("int32"))
    one_entry = pa.array(range(len(exc_lists.values) + 1), type=pa.int32())
    event_attrs = pa.MapArray.from_arrays(
        one_entry,
        pa.array(["exception.type"] * len(exc_lists.values), type=pa.string()),
        exc_lists.values.cast(pa.string()),
        type=_MAP,
    )
    empty_lists = pa.array([[] for _ in range(n)], type=pa.list_(pa.string()))
    columns = {name: base[name] for name in base.column_names}
    columns["ResourceAttributes"] = resource
    columns["SpanAttributes"] = attributes
    columns["Events.Timestamp"] = events["times"]
    columns["Events.Name"] = events["names"]
    columns["Events.Attributes"] = pa.ListArray.from_arrays(exc_offsets, event_attrs)
    columns["Links.TraceId"] = empty_lists
    columns["Links.SpanId"] = empty_lists
    columns["Links.TraceState"] = empty_lists
    columns["Links.Attributes"] = pa.array([[] for _ in range(n)], type=pa.list_(_MAP))
    return pa.table(columns)


# -- labelled scenarios: shared by the detector tests and the bench corpus ----------------------------


def orders_loop(
    number: int,
    *,
    repeats: int = 6,
    each_ms: float = 12.0,
    concurrent: bool = False,
    system: str = "postgresql",
    start_ms: float | None = None,
) -> TraceBuilder:
    """``GET /orders``: one query for the orders, then one query per order (an N+1 when repeats >= 5)."""
    trace = TraceBuilder(number=number, start_ms=number * 1000.0 if start_ms is None else start_ms)
    root = trace.server("/orders", duration_ms=20.0 + repeats * (each_ms + 1))
    trace.db("SELECT id FROM orders WHERE user_id = 7", parent=root, at_ms=1, duration_ms=5)
    for i in range(repeats):
        at = 10.0 if concurrent else 10.0 + i * (each_ms + 1)
        if system == "redis":
            trace.redis(f"GET order:{i}", parent=root, at_ms=at, duration_ms=each_ms)
        else:
            trace.db(
                f"SELECT * FROM items WHERE order_id = {i}", parent=root, at_ms=at, duration_ms=each_ms,
                system=system, code_function="load_items", code_filepath="shop/orders.py", code_lineno=40,
            )  # fmt: skip
    return trace


def orders_without_loop(number: int) -> TraceBuilder:
    trace = TraceBuilder(number=number, start_ms=number * 1000.0)
    trace.server("/orders", duration_ms=20.0)
    return trace


def graphql_loop(number: int, *, items: int = 4, each_ms: float = 10.0) -> TraceBuilder:
    """``POST /graphql``: a resolver per post, each loading the author and the comments."""
    trace = TraceBuilder(number=number, start_ms=number * 1000.0)
    root = trace.server("/graphql", method="POST", duration_ms=20.0 + items * (3 * each_ms))
    trace.db("SELECT * FROM posts LIMIT 4", parent=root, at_ms=1, duration_ms=5)
    for i in range(items):
        at = 10 + i * 3 * each_ms
        resolver = trace.span("Post.author", parent=root, at_ms=at, duration_ms=2.8 * each_ms)
        trace.db(f"SELECT * FROM users WHERE id = {i}", parent=resolver, at_ms=at + 1, duration_ms=each_ms)
        trace.db(
            f"SELECT * FROM comments WHERE post_id = {i}", parent=resolver, at_ms=at + 1 + each_ms + 0.5,
            duration_ms=each_ms,
        )  # fmt: skip
    return trace


def http_loop(number: int, *, repeats: int = 8) -> TraceBuilder:
    """``GET /cart``: one inventory call per cart line."""
    trace = TraceBuilder(number=number, start_ms=number * 1000.0, service="cart")
    root = trace.server("/cart", duration_ms=200.0)
    for i in range(repeats):
        trace.http(
            "GET", f"http://inventory:8080/items/{1000 + i}?fields=stock", parent=root, at_ms=5 + i * 21,
            duration_ms=20,
        )  # fmt: skip
    return trace


def query_waterfall(number: int) -> TraceBuilder:
    """Near miss: six different statements one after another (slow, but not a loop)."""
    trace = TraceBuilder(number=number, start_ms=number * 1000.0)
    root = trace.server("/dashboard", duration_ms=200.0)
    for i, table in enumerate(("users", "orders", "items", "payments", "shipments", "reviews")):
        trace.db(f"SELECT * FROM {table} WHERE user_id = 7", parent=root, at_ms=1 + i * 21, duration_ms=20)
    return trace


def loop_noise(number: int) -> TraceBuilder:
    """Near miss: repeated spans the loop detectors must ignore (connection, fetch, truncated)."""
    trace = TraceBuilder(number=number, start_ms=number * 1000.0)
    root = trace.server("/report", duration_ms=400.0)
    for i in range(8):
        trace.span(
            "connect", parent=root, at_ms=1 + i * 40, duration_ms=10, kind="Client", db_system="postgresql"
        )
        trace.span("cursor.fetchmany", parent=root, at_ms=12 + i * 40, duration_ms=10, kind="Client",
                   db_system="postgresql")  # fmt: skip
        trace.db(f"SELECT * FROM big WHERE id = {i} AND payload = 'aaaa...", parent=root, at_ms=23 + i * 40,
                 duration_ms=15)  # fmt: skip
    return trace


def charge_calls(
    first: int,
    *,
    runs: int = 200,
    fail_every: int = 20,
    failure: str = "timeout",
    layout: str = "interleaved",
    retry: bool = False,
    workflow: bool = False,
    method: str = "POST",
) -> list[TraceBuilder]:
    """``POST /checkout`` calling the payment service, failing now and then.

    ``layout``: ``interleaved`` (every ``fail_every``-th run fails), ``outage`` (the same number of
    failures in one streak) or ``always``. ``failure``: ``timeout`` (an exception event), ``503``
    (a gateway status) or ``bug`` (a ``ValueError``). ``retry`` adds a second, successful attempt
    after each failure; ``workflow`` makes the call a ``charge`` step of a ``checkout`` workflow.
    """
    failures = runs // fail_every
    traces = []
    for i in range(runs):
        trace = TraceBuilder(number=first + i, start_ms=(first + i) * 1000.0, service="checkout")
        if layout == "always":
            fails = True
        elif layout == "outage":
            fails = runs // 2 <= i < runs // 2 + failures
        else:
            fails = i % fail_every == fail_every // 2
        root = trace.server("/checkout", method="POST", duration_ms=400.0)
        parent = root
        if workflow:
            parent = trace.span("charge", parent=root, at_ms=1, duration_ms=300, workflow_step="charge",
                                status="Error" if fails and not retry else "Unset")  # fmt: skip
        error: dict[str, Any] = {}
        if fails:
            error = {"status": "Error"}
            if failure == "timeout":
                error |= {"status_message": "read timed out", "exception_types": ["httpx.ReadTimeout"]}
            elif failure == "503":
                error |= {"http_status": 503, "status_message": "Service Unavailable"}
            else:
                error |= {"status_message": "invalid amount", "exception_types": ["ValueError"]}
        trace.http(method, f"https://payments/charges?order={i}", parent=parent, at_ms=2,
                   duration_ms=250.0 if fails else 80.0, **error)  # fmt: skip
        if fails and retry:
            trace.http(
                method, f"https://payments/charges?order={i}", parent=parent, at_ms=300, duration_ms=80.0
            )
        traces.append(trace)
    return traces


def profile_page(
    number: int,
    *,
    swap: bool = False,
    dependent: bool = False,
    durations: tuple[float, ...] = (120.0, 100.0, 150.0),
) -> TraceBuilder:
    """``GET /profile``: three calls in a row that all use the request's user id.

    ``swap`` runs the first two in the other order; ``dependent`` makes the second query use a value
    the first one returned (one not in the request), the shape of a real data dependency.
    """
    trace = TraceBuilder(number=number, start_ms=number * 1000.0)
    root = trace.server("/profile", duration_ms=sum(durations) + 30.0)
    user = "SELECT * FROM users WHERE id = 42"
    prefs = (
        f"SELECT * FROM accounts WHERE id = {900 + number}"
        if dependent
        else "SELECT * FROM prefs WHERE user_id = 42"
    )
    first, second = (prefs, user) if swap else (user, prefs)
    at = 5.0
    trace.db(first, parent=root, at_ms=at, duration_ms=durations[0])
    at += durations[0] + 2
    trace.db(second, parent=root, at_ms=at, duration_ms=durations[1])
    at += durations[1] + 2
    if len(durations) > 2:
        trace.http("GET", "http://recs:8080/users/42", parent=root, at_ms=at, duration_ms=durations[2])
    return trace


def report_workflow(number: int, *, declared: bool = True) -> TraceBuilder:
    """A ``report`` workflow whose two fetch steps run one after the other."""
    trace = TraceBuilder(number=number, start_ms=number * 1000.0, service="reports")
    run = trace.span("report", duration_ms=700.0, workflow_name="report")
    depends = {"workflow_depends_on": ""} if declared else {}
    trace.span("fetch sales", parent=run, at_ms=1, duration_ms=300.0, workflow_step="sales", **depends)
    trace.span("fetch stock", parent=run, at_ms=305, duration_ms=250.0, workflow_step="stock", **depends)
    return trace


def product_reads(
    first: int,
    *,
    count: int = 40,
    every_s: float = 10.0,
    write_between: bool = False,
    per_request: bool = False,
) -> list[TraceBuilder]:
    """``GET /product``: the same product row read by request after request, ``every_s`` apart.

    ``write_between`` updates the row between any two reads; ``per_request`` reads it twice in each
    request (a memoization case).
    """
    traces = []
    for i in range(count):
        trace = TraceBuilder(number=first + i, start_ms=(first + i) * every_s * 1000.0)
        root = trace.server("/product", duration_ms=100.0)
        trace.db("SELECT * FROM products WHERE id = 7", parent=root, at_ms=1, duration_ms=20.0)
        if per_request:
            trace.db("SELECT * FROM products WHERE id = 7", parent=root, at_ms=30, duration_ms=20.0)
        if write_between:
            trace.db(
                "UPDATE products SET views = views + 1 WHERE id = 7", parent=root, at_ms=60, duration_ms=5.0
            )
        traces.append(trace)
    return traces
