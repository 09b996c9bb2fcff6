"""Trace and span id checks shared by every signal."""

from __future__ import annotations

TRACE_ID_BYTES = 16
SPAN_ID_BYTES = 8


def required_id(value: bytes, size: int, what: str) -> str:
    """Lower-case hex of an id that must be present and valid; ``ValueError`` explains why not."""
    if len(value) != size:
        raise ValueError(f"{what} must be {size} bytes, got {len(value)}")
    if not any(value):
        raise ValueError(f"{what} must not be all zeros")
    return value.hex()


def optional_id(value: bytes, size: int, what: str) -> str:
    """Lower-case hex of an id that may be absent (empty string when it is)."""
    if not value:
        return ""
    if len(value) != size:
        raise ValueError(f"{what} must be empty or {size} bytes, got {len(value)}")
    return value.hex() if any(value) else ""
