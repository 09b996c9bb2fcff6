"""OTLP ``AnyValue`` to the strings the ClickHouse exporter stores.

Scalars become their text (doubles in the shortest round-trip form, as JavaScript prints numbers),
bytes become base64, and arrays and key-value lists become JSON. Nesting deeper than
:data:`MAX_DEPTH` is cut and replaced by a marker, so hostile input cannot exhaust the stack.
"""

from __future__ import annotations

import base64
import json
import math
from decimal import Decimal
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

MAX_DEPTH = 32
TRUNCATED_MARKER = "[truncated: nested too deeply]"


def format_double(value: float) -> str:
    """Shortest text that reads back as ``value``, without exponent between 1e-6 and 1e21."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    shortest = repr(value)
    if 1e-6 <= abs(value) < 1e21:
        text = format(Decimal(shortest), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    mantissa, _, exponent = shortest.partition("e")
    mantissa = mantissa.removesuffix(".0")
    sign = "-" if exponent.startswith("-") else "+"
    return f"{mantissa}e{sign}{exponent.lstrip('+-').lstrip('0') or '0'}"


def to_raw(value: AnyValue, depth: int = 0) -> Any:
    """A JSON-ready Python value for ``value``."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        number = value.double_value
        return number if math.isfinite(number) else format_double(number)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    if depth >= MAX_DEPTH:
        return TRUNCATED_MARKER
    if kind == "array_value":
        return [to_raw(item, depth + 1) for item in value.array_value.values]
    return {item.key: to_raw(item.value, depth + 1) for item in value.kvlist_value.values}


def to_text(value: AnyValue) -> str:
    """The stored text of one attribute value or log body."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind is None:
        return ""
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind == "int_value":
        return str(value.int_value)
    if kind == "double_value":
        return format_double(value.double_value)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return json.dumps(to_raw(value), ensure_ascii=False, separators=(",", ":"))


Pairs = tuple[list[str], list[str]]


def attributes(values: Any) -> Pairs:
    """Keys and values for a Map column, as two parallel lists (the shape Arrow builds maps from
    fastest); a repeated key keeps its last value, as a map would."""
    keys = [item.key for item in values]
    texts = [
        item.value.string_value if item.value.WhichOneof("value") == "string_value" else to_text(item.value)
        for item in values
    ]
    if len(set(keys)) != len(keys):
        deduplicated = dict(zip(keys, texts, strict=True))
        return list(deduplicated), list(deduplicated.values())
    return keys, texts


def service_name(resource_attributes: Any) -> str:
    """``service.name`` of a resource, ``unknown_service`` when it has none."""
    item: KeyValue
    for item in resource_attributes:
        if item.key == "service.name":
            return to_text(item.value) or "unknown_service"
    return "unknown_service"
