"""Column buffers that decoders fill and the writer turns into one Arrow table per insert."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

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
        return pa.Table.from_pydict(self.columns, schema=self.schema)


@dataclass
class Decoded:
    """What one OTLP request turned into: rows per table and the items refused."""

    rows: list[TableRows]
    accepted: int
    rejected: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def error_message(self) -> str:
        if not self.errors:
            return ""
        shown = "; ".join(self.errors[:5])
        more = len(self.errors) - 5
        return shown + (f"; and {more} more" if more > 0 else "")


MAP = pa.map_(pa.string(), pa.string())
TIMESTAMP = pa.timestamp("ns")
