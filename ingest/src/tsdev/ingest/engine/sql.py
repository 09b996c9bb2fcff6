"""SQL shared by the engine path: the column types OTLP's messages are read into, and the
expressions that turn them into the strings and maps tsdev's Python decoder produces.

Each expression here has a twin in :mod:`tsdev.ingest.decode.anyvalue` or
:mod:`tsdev.ingest.decode.ids`, and the engine path's tests store the same requests both ways and
compare every column.
"""

# ruff: noqa: S608  # SQL is assembled from fixed fragments; the only values are tsdev's own file paths

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tsdev.ingest.decode.batch import MAX_TIMESTAMP_NS

SCHEMA_FILE = Path(__file__).with_name("otlp_subset.proto")

_VALUE_KIND = (
    "Enum8('none' = 0, 'string_value' = 1, 'bool_value' = 2, 'int_value' = 3,"
    " 'double_value' = 4, 'array_value' = 5, 'kvlist_value' = 6, 'bytes_value' = 7)"
)
ANY_VALUE = (
    "Tuple(string_value String, bool_value Bool, int_value Int64, double_value Float64,"
    f" array_value String, kvlist_value String, bytes_value String, value {_VALUE_KIND})"
)
"""An ``AnyValue``, with the oneof's presence as ``value``."""
KEY_VALUES = f"Array(Tuple(key String, value {ANY_VALUE}))"
"""A repeated ``KeyValue`` field."""
SCALAR_VALUE = (
    "Tuple(string_value String, bool_value Bool, int_value Int64, double_value Float64,"
    f" bytes_value String, value {_VALUE_KIND})"
)
"""An ``AnyValue`` known to be a scalar, as the insert reads it once the check passed every request:
the arrays and key-value lists it never holds are not copied out of the request."""
SCALAR_KEY_VALUES = f"Array(Tuple(key String, value {SCALAR_VALUE}))"
VALUE_KIND = f"Tuple(array_value String, kvlist_value String, value {_VALUE_KIND})"
"""An ``AnyValue`` as the check reads it: whether it holds an array or a key-value list (the format
tells a oneof's presence only for the fields it reads; other kinds read as ``none``)."""
KEY_KINDS = f"Array(Tuple(key String, value {VALUE_KIND}))"
"""A repeated ``KeyValue`` field as the check reads it: keys and value kinds, values skipped."""


def quoted(text: str) -> str:
    """A ClickHouse string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def settings(message: str) -> str:
    """The settings every engine-path statement reads its input with."""
    schema = quoted(f"{SCHEMA_FILE}:{message}")
    return f"format_schema = {schema}, input_format_protobuf_oneof_presence = 1"


def source(path: Path, structure: str) -> str:
    """The table function reading length-delimited export requests from ``path``."""
    return f"file({quoted(str(path))}, 'Protobuf', {quoted(structure)})"


def clamped_ns(nanos: str) -> str:
    """An unsigned nanosecond field cut at the largest time ``DateTime64(9)`` holds (``clamp_ns``)."""
    return f"least({nanos}, {MAX_TIMESTAMP_NS})"


def timestamp(nanos: str) -> str:
    """A ``DateTime64(9)`` from an unsigned nanosecond field."""
    return f"fromUnixTimestamp64Nano(toInt64({clamped_ns(nanos)}))"


def double_text(number: str) -> str:
    """The text :func:`format_double` gives: ClickHouse prints doubles in the same shortest form,
    except for the special values, negative zero and the exponent's sign above 1e21."""
    return (
        f"multiIf(isNaN({number}), 'NaN', isInfinite({number}), if({number} > 0, '+Inf', '-Inf'),"
        f" {number} = 0, '0', abs({number}) >= 1e21, replaceOne(toString({number}), 'e', 'e+'),"
        f" toString({number}))"
    )


def value_text(value: str) -> str:
    """The stored text of a scalar ``AnyValue`` (arrays and key-value lists never reach here)."""
    return _scalar_text(*(f"{value}.{field}" for field in _SCALAR_FIELDS))


_SCALAR_FIELDS = ("value", "string_value", "bool_value", "int_value", "double_value", "bytes_value")


def _scalar_text(kind: str, text: str, flag: str, integer: str, number: str, data: str) -> str:
    return (
        f"multiIf({kind} = 'string_value', {text}, {kind} = 'bool_value', if({flag}, 'true', 'false'),"
        f" {kind} = 'int_value', toString({integer}), {kind} = 'double_value', {double_text(number)},"
        f" {kind} = 'bytes_value', base64Encode({data}), '')"
    )


def attribute_map(key_values: str) -> str:
    """A ``Map(String, String)`` of a ``KeyValue`` list whose keys are distinct.

    The values are rendered from the list's per-field arrays (``kv.value.string_value`` and so on, as
    ClickHouse reads a field of an array of tuples) rather than from each tuple: that spares building
    a tuple per value and costs about a tenth less of the insert's expression work."""
    fields = [f"{key_values}.value.{field}" for field in _SCALAR_FIELDS]
    names = ", ".join(f"v_{field}" for field in _SCALAR_FIELDS)
    text = _scalar_text(*(f"v_{field}" for field in _SCALAR_FIELDS))
    return f"mapFromArrays({key_values}.key, arrayMap(({names}) -> {text}, {', '.join(fields)}))"


def attributes_flat(key_values: str, *, scalar_read: bool = False) -> str:
    """True when a ``KeyValue`` list has distinct keys and scalar values only: the lists the
    engine path stores exactly as the Python decoder does.

    With ``scalar_read`` (the list read as ``SCALAR_KEY_VALUES``) an array or key-value list reads as
    no value at all, so every value without a scalar counts as not flat, an empty one included."""
    scalar = (
        "kv.value.value != 'none'" if scalar_read else "kv.value.value NOT IN ('array_value', 'kvlist_value')"
    )
    return f"(arrayAll(kv -> {scalar}, {key_values}) AND arrayUniq({key_values}.key) = length({key_values}))"


def body_flat(value: str, *, scalar_read: bool = False) -> str:
    """True when an ``AnyValue`` is a scalar (see ``attributes_flat`` for ``scalar_read``)."""
    return (
        f"{value}.value != 'none'" if scalar_read else f"{value}.value NOT IN ('array_value', 'kvlist_value')"
    )


def _zero_id(size: int) -> str:
    return f"unhex('{'00' * size}')"


def required_id(value: str, size: int) -> str:
    """True for an id ``ids.required_id`` accepts: the right length, not all zeros."""
    return f"(length({value}) = {size} AND {value} != {_zero_id(size)})"


def optional_id_valid(value: str, size: int) -> str:
    """True for an id ``ids.optional_id`` accepts: absent or the right length."""
    return f"length({value}) IN (0, {size})"


def hex_id(value: str) -> str:
    return f"lower(hex({value}))"


def optional_hex_id(value: str, size: int) -> str:
    """``ids.optional_id``'s text: empty for an absent or all-zero id."""
    return f"if({value} = {_zero_id(size)}, '', {hex_id(value)})"


def enum_name(names: tuple[str, ...], number: str) -> str:
    """The name of an OTLP enum value, the first name for values out of range."""
    listed = ", ".join(quoted(name) for name in names)
    return f"[{listed}][if({number} BETWEEN 0 AND {len(names) - 1}, {number} + 1, 1)]"


NOT_FLAT = "tsdev: a request is not surely flat"
"""The error an unchecked insert fails with when a request needs the check."""

ENGINE_THREADS = max(1, min(4, os.cpu_count() or 1))
"""Threads an engine-path statement may use. A batch is written as this many files, because one
file is parsed by one thread; and the table's materialized views are fed in parallel, so that
writing the table, its projection and each view's part do not wait on one another."""


@dataclass(frozen=True)
class Flattening:
    """How one OTLP export request unrolls into the rows of one table: resources, then scopes,
    then items (spans or log records), each level a repeated field of the one above.

    Expressions refer to the current resource as ``res``, scope as ``sc`` and item as ``it``.
    Resource and scope columns are computed once per resource and scope, before the items are
    unrolled, so a request's thousand items share one evaluation of its resource attributes."""

    message: str
    structure: str
    """The request as the insert reads it when some requests may not be flat."""
    scalar_structure: str
    """The same with ``SCALAR_VALUE`` for every ``AnyValue``: read when every request is flat."""
    resources: str
    scopes: str
    items: str
    flat: str
    """True for a request the engine stores exactly as the Python decoder would."""
    check_structure: str
    """The fields ``flat`` reads, and no others: the check skips the rest of each request unread."""
    flat_when_scalar: str
    """``flat`` for a request read as ``scalar_structure``, where an array or key-value list reads as
    no value: true only for requests surely flat (one with an empty value is left to the check)."""
    resource_columns: dict[str, str]
    scope_columns: dict[str, str]
    columns: dict[str, str]
    """Every column of the table, in the Python decoder's order, with its expression."""

    def check_sql(self, path: Path) -> str:
        """One row per request in the files ``path`` matches (a glob): the file's name, then
        whether the engine can store the request; a file's rows come in its order."""
        return (
            f"SELECT _file, {self.flat} FROM {source(path, self.check_structure)}"
            f" SETTINGS {settings(self.message)}, max_threads = {ENGINE_THREADS}"
        )

    def insert_sql(self, table: str, path: Path, *, all_flat: bool) -> str:
        """Flatten the storable requests in the files ``path`` matches into ``table`` (a qualified
        name). With ``all_flat`` (the check passed every request) the check is not repeated."""
        if all_flat:
            return self._insert_sql(table, path, self.scalar_structure, "", "")
        return self._insert_sql(table, path, self.structure, f" WHERE {self.flat}", "")

    def unchecked_insert_sql(self, table: str, path: Path, *, rows: int) -> str:
        """Flatten every request in the files ``path`` matches, all ``rows`` items of them, into
        ``table`` without a check first; fail with ``NOT_FLAT`` and store nothing at all if one of
        them is not surely flat.

        The settings squash the whole input into one block, which is written only once every
        request has been read and passed (the tests put the odd request at several places of a
        batch of thousands of spans and count what was stored)."""
        throw = f" WHERE throwIf(NOT {self.flat_when_scalar}, {quoted(NOT_FLAT)}) = 0"
        one_block = f", min_insert_block_size_rows = {rows + 1}, min_insert_block_size_bytes = 0"
        return self._insert_sql(table, path, self.scalar_structure, throw, one_block)

    def _insert_sql(self, table: str, path: Path, structure: str, where: str, extra_settings: str) -> str:
        names = ", ".join(f"`{name}`" for name in self.columns)
        values = ",\n    ".join(self.columns.values())
        resource = "".join(f"{value} AS {alias}, " for alias, value in self.resource_columns.items())
        scope = "".join(f"{value} AS {alias}, " for alias, value in self.scope_columns.items())
        carried = "".join(f"{alias}, " for alias in self.resource_columns)
        return f"""
INSERT INTO {table} ({names})
SELECT
    {values}
FROM (
    SELECT {carried}{scope}sc.{self.items} AS items
    FROM (
        SELECT {resource}res.{self.scopes} AS scopes
        FROM (SELECT {self.resources} FROM {source(path, structure)}{where})
        ARRAY JOIN {self.resources} AS res
    )
    ARRAY JOIN scopes AS sc
)
ARRAY JOIN items AS it
SETTINGS {settings(self.message)}, max_threads = {ENGINE_THREADS},
    max_insert_threads = {ENGINE_THREADS}, parallel_view_processing = 1{extra_settings}"""


def service_name(attributes: str) -> str:
    """The resource's service name as the Python decoder finds it (keys are distinct here)."""
    return f"if({attributes}['service.name'] = '', 'unknown_service', {attributes}['service.name'])"
