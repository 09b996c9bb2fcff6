import datetime as dt
import time

import polars as pl
import pyarrow as pa

from tests.support.spans import BASE_NS, OLD_NAMES, TraceBuilder, frame, otel_arrow
from tsdev.analysis.spans import SPAN_SCHEMA, span_frame, span_select_sql
from tsdev.core.store import Store


def _recent_trace() -> TraceBuilder:
    """A trace a minute old: the store's retention TTL drops rows older than a week on insert."""
    return TraceBuilder(number=77, start_ms=float((time.time_ns() - BASE_NS) // 10**9 * 1000 - 60_000))


def _window(spans: pl.DataFrame) -> dict[str, dt.datetime]:
    start = dt.datetime.fromtimestamp(
        int(spans["start_ns"].cast(pl.Int64).to_list()[0]) // 10**9 - 1, tz=dt.UTC
    )
    return {"start": start, "end": start + dt.timedelta(minutes=5)}


def _read(store: Store, spans: pl.DataFrame) -> pl.DataFrame:
    table = store.query_arrow(span_select_sql(store.table("otel_traces")), _window(spans))
    return span_frame(table).sort("span_id")


def _sample() -> pl.DataFrame:
    trace = _recent_trace()
    root = trace.server("/users/{id}", duration_ms=120.0, http_status=200, code_lineno=12)
    trace.db(
        "SELECT * FROM users WHERE id = $1",
        parent=root,
        at_ms=1,
        duration_ms=3.5,
        db_parameters="0=42",
        code_function="load_user",
        code_filepath="app/users.py",
        code_lineno=88,
    )
    trace.http(
        "POST",
        "https://pay/charges",
        parent=root,
        at_ms=10,
        duration_ms=50,
        status="Error",
        status_message="upstream timed out",
        http_status=504,
        server_address="pay",
        exception_types=["httpx.ReadTimeout", "TimeoutError"],
    )
    trace.span(
        "charge",
        parent=root,
        at_ms=70,
        duration_ms=5,
        workflow_name="checkout",
        workflow_step="charge",
        workflow_depends_on="",
    )
    return frame([trace])


def test_new_convention_names_round_trip_through_the_store(fresh_store: Store) -> None:
    spans = _sample().with_columns(db_parameters=pl.lit(""))
    fresh_store.insert_arrow("otel_traces", otel_arrow(spans))
    read = _read(fresh_store, spans)
    assert read.schema == pl.Schema(SPAN_SCHEMA)
    assert read.to_dicts() == spans.sort("span_id").to_dicts()


def test_old_convention_names_and_bound_parameters_are_read(fresh_store: Store) -> None:
    spans = _sample()
    names = {**OLD_NAMES, "db_parameters": "db.query.parameter.0"}
    fresh_store.insert_arrow(
        "otel_traces",
        otel_arrow(
            spans.with_columns(
                db_parameters=pl.when(pl.col("db_parameters") != "").then(pl.lit("42")).otherwise(pl.lit(""))
            ),
            names=names,
        ),
    )
    read = _read(fresh_store, spans)
    assert read.to_dicts() == spans.sort("span_id").to_dicts()
    query = read.filter(pl.col("db_system") != "").row(0, named=True)
    assert (query["db_statement"], query["db_parameters"], query["code_lineno"]) == (
        "SELECT * FROM users WHERE id = $1",
        "0=42",
        88,
    )


def test_parameters_recorded_by_the_dbapi_instrumentation_are_read(fresh_store: Store) -> None:
    spans = _sample().with_columns(
        db_parameters=pl.when(pl.col("db_parameters") != "").then(pl.lit("(42,)")).otherwise(pl.lit(""))
    )
    fresh_store.insert_arrow(
        "otel_traces", otel_arrow(spans, names={**OLD_NAMES, "db_parameters": "db.statement.parameters"})
    )
    query = _read(fresh_store, spans).filter(pl.col("db_system") != "").row(0, named=True)
    assert query["db_parameters"] == "(42,)"


def test_new_names_win_over_old_ones_and_the_window_is_half_open(fresh_store: Store) -> None:
    trace = _recent_trace()
    trace.span("q", kind="Client", db_system="x")
    spans = frame([trace])
    table = otel_arrow(spans, names={"db_system": "db.system.name"})
    both = pa.MapArray.from_arrays(
        pa.array([0, 2], type=pa.int32()),
        pa.array(["db.system", "db.system.name"]),
        pa.array(["old", "new"]),
        type=pa.map_(pa.string(), pa.string()),
    )
    fresh_store.insert_arrow(
        "otel_traces",
        table.set_column(table.schema.get_field_index("SpanAttributes"), "SpanAttributes", both),
    )
    assert _read(fresh_store, spans)["db_system"].to_list() == ["new"]
    exact = dt.datetime.fromtimestamp(int(spans["start_ns"][0]) / 1e9, tz=dt.UTC)
    table_before = fresh_store.query_arrow(
        span_select_sql(fresh_store.table("otel_traces")),
        {"start": exact - dt.timedelta(minutes=1), "end": exact},
    )
    assert table_before.num_rows == 0


def test_span_frame_fills_absent_columns_and_casts_driver_types() -> None:
    table = pa.table(
        {
            "trace_id": pa.array([b"ab"], type=pa.binary()),
            "span_id": ["01"],
            "start_ns": pa.array([5], type=pa.uint64()),
            "duration_ns": pa.array([7], type=pa.uint64()),
            "name": pa.array(["GET"]).dictionary_encode(),
        }
    )
    row = span_frame(table).row(0, named=True)
    assert (row["trace_id"], row["name"], row["end_ns"], row["db_statement"], row["http_status"]) == (
        "ab",
        "GET",
        12,
        "",
        None,
    )
    assert row["exception_types"] == []
    assert row["workflow_depends_on"] is None
