"""Column buffers that decoders fill and the writer turns into one Arrow table per insert."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import accumulate, chain
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:
    from tsdev.ingest.engine.rows import EngineRows

MAX_TIMESTAMP_NS = 2**63 - 1


def clamp_ns(value: int) -> int:
    """A nanosecond timestamp that fits ``DateTime64(9)``: unsigned OTLP times past 2262 are cut."""
    return value if value <= MAX_TIMESTAMP_NS else MAX_TIMESTAMP_NS


@dataclass
class TableRows:
    """Rows for one table, held as one Python list per column, in ``schema`` order."""

    table: str
    schema: pa.Schema
    columns: dict[str, list[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.columns:
            self.columns = {name: [] for name in self.schema.names}

    @property
    def num_rows(self) -> int:
        first = self.schema.names[0]
        return len(self.columns[first])

    def extend(self, other: TableRows) -> None:
        for name, values in other.columns.items():
            self.columns[name].extend(values)

    def to_arrow(self) -> pa.Table:
        arrays = [_to_array(self.columns[field.name], field.type) for field in self.schema]
        return pa.Table.from_arrays(arrays, schema=self.schema)


@dataclass
class Decoded:
    """What one OTLP request turned into: rows per table and the items refused."""

    rows: list[TableRows]
    accepted: int
    rejected: int = 0
    errors: list[str] = field(default_factory=list)
    engine_rows: list[EngineRows] = field(default_factory=list)
    """Request bodies left for the store's engine to flatten (see :mod:`tsdev.ingest.engine`)."""

    @property
    def error_message(self) -> str:
        if not self.errors:
            return ""
        shown = "; ".join(self.errors[:5])
        more = len(self.errors) - 5
        return shown + (f"; and {more} more" if more > 0 else "")


MAP = pa.map_(pa.string(), pa.string())
TIMESTAMP = pa.timestamp("ns")
_LIST_OF_MAPS = pa.list_(MAP)
_LIST_OF_TIMESTAMPS = pa.list_(TIMESTAMP)


def _offsets(lengths: list[int]) -> pa.Array:
    return pa.array([0, *accumulate(lengths)], pa.int32())


def _map_array(pairs: list[tuple[list[str], list[str]]]) -> pa.Array:
    """A Map array from per-row (keys, values) lists, flattened at C speed."""
    keys = pa.array(list(chain.from_iterable(key_list for key_list, _ in pairs)), pa.string())
    values = pa.array(list(chain.from_iterable(value_list for _, value_list in pairs)), pa.string())
    return pa.MapArray.from_arrays(_offsets([len(key_list) for key_list, _ in pairs]), keys, values)


def _to_array(values: list[Any], data_type: pa.DataType) -> pa.Array:
    if data_type == MAP:
        return _map_array(values)
    if data_type == _LIST_OF_MAPS:
        inner = _map_array(list(chain.from_iterable(values)))
        return pa.ListArray.from_arrays(_offsets([len(row) for row in values]), inner)
    # Python ints convert to timestamps through a slow per-value path; as int64 they are a memcpy.
    if data_type == TIMESTAMP:
        return pa.array(values, pa.int64()).cast(TIMESTAMP)
    if data_type == _LIST_OF_TIMESTAMPS:
        return pa.array(values, pa.list_(pa.int64())).cast(_LIST_OF_TIMESTAMPS)
    return pa.array(values, data_type)


def warm_up_decoders() -> None:
    """Pay pyarrow's one-time lazy initialisation of Python-to-Arrow conversion (seconds on a busy
    machine) at start, not inside the first export request."""
    _to_array([1], TIMESTAMP)
    _to_array([([], [])], MAP)
