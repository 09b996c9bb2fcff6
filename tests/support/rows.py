"""Rows read back from the store as plain Python: times as integer nanoseconds, maps as dicts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tests.conftest import IN_CI
from tsdev.core.store import Store

REPO_ROOT = Path(__file__).resolve().parents[2]
OTLP_EXAMPLES = REPO_ROOT.parent / "shared" / "otlp-examples"


def example(name: str) -> bytes:
    """One of the OTLP/JSON examples published with the protocol, kept beside the repository."""
    path = OTLP_EXAMPLES / name
    if not path.exists():
        if IN_CI:
            pytest.fail(f"{path} is missing: CI must have shared/ beside the clone")
        pytest.skip(f"{path} is not present on this machine")
    return path.read_bytes()


def _plain_type(data_type: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(data_type):
        return pa.int64()
    if pa.types.is_list(data_type):
        return pa.list_(_plain_type(data_type.value_type))
    return data_type


def _plain(value: Any) -> Any:
    if (
        isinstance(value, list)
        and value
        and all(isinstance(item, tuple) and len(item) == 2 for item in value)
    ):
        return dict(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def fetch(store: Store, table: str, where: str = "1", order_by: str = "tuple()") -> list[dict[str, Any]]:
    data = store.query_arrow(f"SELECT * FROM {store.table(table)} WHERE {where} ORDER BY {order_by}")
    columns = {
        name: column.cast(_plain_type(column.type))
        for name, column in zip(data.column_names, data.columns, strict=True)
    }
    names = list(columns)
    return [
        {name: _plain(value) for name, value in zip(names, values, strict=True)}
        for values in zip(*(columns[name].to_pylist() for name in names), strict=True)
    ]


def count(store: Store, table: str, where: str = "1") -> int:
    return int(store.query_rows(f"SELECT count() FROM {store.table(table)} WHERE {where}")[0][0])


def stored_span_ids(store: Store, trace_id: str) -> list[str]:
    """The span ids of a trace as ``otel_traces`` itself holds them (not its trace-id projection), in
    start order: what a trace read must give back."""
    rows = store.query_rows(
        f"SELECT SpanId FROM {store.table('otel_traces')} WHERE TraceId = {{id:String}}"
        " ORDER BY Timestamp, SpanId SETTINGS optimize_use_projections = 0",
        {"id": trace_id},
    )
    return [row[0] for row in rows]
