"""OTLP/JSON to protobuf messages.

OTLP/JSON differs from protobuf's canonical JSON mapping in one way that matters here: trace and span
ids are hex strings (any case), not base64. They are rewritten to base64 first; an id that is not valid
hex becomes a one-byte id, so the item is refused with a partial success instead of failing the whole
request. Everything else (camelCase or original field names, enums as integers, 64-bit integers as
strings or numbers, unknown fields ignored) is what protobuf's JSON parser already accepts.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message

ID_FIELDS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})
_INVALID_ID = base64.b64encode(b"\xff").decode("ascii")

M = TypeVar("M", bound=Message)


class InvalidJson(ValueError):
    """The body is not an OTLP/JSON message."""


def _hex_to_base64(value: str) -> str:
    if not value:
        return value
    try:
        raw = binascii.unhexlify(value)
    except (binascii.Error, ValueError):
        return _INVALID_ID
    return base64.b64encode(raw).decode("ascii")


def _rewrite_ids(node: Any) -> None:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            for key, value in current.items():
                if key in ID_FIELDS and isinstance(value, str):
                    current[key] = _hex_to_base64(value)
                elif isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(current, list):
            stack.extend(item for item in current if isinstance(item, dict | list))


def parse_json(body: bytes, message: M) -> M:
    """Fill ``message`` from an OTLP/JSON body; ``InvalidJson`` says what is wrong."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise InvalidJson(f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidJson("body must be a JSON object")
    _rewrite_ids(data)
    try:
        json_format.ParseDict(data, message, ignore_unknown_fields=True)
    except (json_format.ParseError, RecursionError, TypeError, ValueError) as exc:
        raise InvalidJson(f"body does not match {message.DESCRIPTOR.name}: {exc}") from None
    return message
