import polars as pl

from tests.support.spans import TraceBuilder, frame
from tsdev.analysis.operations import annotate
from tsdev.analysis.spans import empty_span_frame

LINKS = ["span_id", "row", "parent_row", "entry_row", "entry_name", "operation", "op_id"]


def _orders() -> pl.DataFrame:
    first = TraceBuilder(number=2)
    root = first.server("/orders", duration_ms=50.0)
    first.db("SELECT * FROM items WHERE order_id = 1", parent=root, at_ms=1, duration_ms=5)
    first.http("GET", "http://stock/items/1", parent=root, at_ms=7, duration_ms=5)
    second = TraceBuilder(number=1)
    second.server("/health", duration_ms=1.0)
    return frame([first, second])


def test_rows_rank_trace_then_start_whatever_the_input_order() -> None:
    spans = _orders()
    annotated = annotate(spans).sort("row")
    shuffled = annotate(spans.sample(fraction=1.0, shuffle=True, seed=3)).sort("row")
    assert annotated.select(LINKS).to_dicts() == shuffled.select(LINKS).to_dicts()
    assert annotated["span_id"].to_list() == [
        "0000000100000001", "0000000200000001", "0000000200000002", "0000000200000003",
    ]  # fmt: skip
    assert annotated["parent_row"].to_list() == [-1, -1, 1, 1]
    assert annotated["entry_name"].to_list() == ["GET /health", "GET /orders", "GET /orders", "GET /orders"]
    assert annotated["op_id"].to_list() == [0, 1, 3, 2]  # ranks of the operation texts


def test_a_span_id_used_twice_in_a_trace_parents_to_the_first() -> None:
    spans = _orders()
    late_copy = spans.filter(pl.col("name") == "GET /orders").with_columns(pl.col("start_ns") + 10**9)
    annotated = annotate(pl.concat([late_copy, spans])).sort("row")
    children = annotated.filter(pl.col("parent_span_id") != "")
    assert children["parent_row"].to_list() == [1, 1]


def test_an_empty_frame_gets_every_column() -> None:
    annotated = annotate(empty_span_frame())
    assert annotated.is_empty()
    assert {"row", "parent_row", "entry_row", "operation", "op_id", "excluded_call"} <= set(annotated.columns)
