"""Times and durations as people and tools write them.

Times are RFC 3339 (``2024-05-01T12:00:00Z``, offsets and fractions allowed, read to the nanosecond)
or relative to now (``now``, ``now-1h``, ``now-15m``, ``now+30s``). Durations are Go-style strings as
Jaeger and Grafana send them (``1.2ms``, ``500us``, ``2s``, ``1h30m``). Everything is converted to
integer nanoseconds since the epoch, the unit the tables store, so no precision is lost on the way.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from tsdev.core.query.errors import InvalidParameterError

NS_PER_SECOND = 1_000_000_000
DEFAULT_RANGE_NS = 3600 * NS_PER_SECOND

_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": NS_PER_SECOND,
    "m": 60 * NS_PER_SECOND,
    "h": 3600 * NS_PER_SECOND,
    "d": 86400 * NS_PER_SECOND,
    "w": 7 * 86400 * NS_PER_SECOND,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d|w)")
_RELATIVE = re.compile(r"^now(?:\s*([+-])\s*(.+))?$")
_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$")


def now_ns() -> int:
    return time.time_ns()


def parse_duration(text: str, parameter: str) -> int:
    """Nanoseconds in a Go-style duration (``1.2ms``, ``1h30m``); a bare number is seconds."""
    value = text.strip()
    if not value:
        raise InvalidParameterError(parameter, "empty duration")
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        return round(float(value) * NS_PER_SECOND)
    total = 0.0
    position = 0
    for match in _DURATION_PART.finditer(value):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_NS[match.group(2)]
        position = match.end()
    if position != len(value) or position == 0:
        raise InvalidParameterError(
            parameter, f"{text!r} is not a duration such as 500us, 1.2ms, 2s or 1h30m"
        )
    return round(total)


def parse_time(text: str, parameter: str, now: int | None = None) -> int:
    """Nanoseconds since the epoch for an RFC 3339 time or a relative one (``now-1h``)."""
    value = text.strip()
    relative = _RELATIVE.match(value)
    if relative:
        base = now_ns() if now is None else now
        sign, offset = relative.groups()
        if sign is None:
            return base
        delta = parse_duration(offset, parameter)
        return base - delta if sign == "-" else base + delta
    match = _RFC3339.match(value)
    if not match:
        raise InvalidParameterError(
            parameter, f"{text!r} is neither RFC 3339 (2024-05-01T12:00:00Z) nor now-1h"
        )
    day, clock, fraction, zone = match.groups()
    offset_text = "+00:00" if zone in ("Z", "z") else zone
    try:
        whole = datetime.fromisoformat(f"{day}T{clock}{offset_text}")
    except ValueError as exc:
        raise InvalidParameterError(parameter, f"{text!r}: {exc}") from exc
    nanos = int((fraction or "0").ljust(9, "0"))
    return int(whole.timestamp()) * NS_PER_SECOND + nanos


def format_time(ns: int) -> str:
    """RFC 3339 in UTC with nanoseconds, the inverse of :func:`parse_time`."""
    seconds, nanos = divmod(ns, NS_PER_SECOND)
    stamp = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z"


@dataclass(frozen=True)
class TimeRange:
    """A half-open interval ``[start_ns, end_ns)`` in nanoseconds since the epoch."""

    start_ns: int
    end_ns: int

    @classmethod
    def parse(
        cls,
        start: str | None,
        end: str | None,
        *,
        start_parameter: str = "start",
        end_parameter: str = "end",
        default_ns: int = DEFAULT_RANGE_NS,
        now: int | None = None,
    ) -> TimeRange:
        """The range the caller asked for; the last hour when nothing is given."""
        current = now_ns() if now is None else now
        end_ns = parse_time(end, end_parameter, current) if end else current
        start_ns = parse_time(start, start_parameter, current) if start else end_ns - default_ns
        return cls.checked(start_ns, end_ns, start_parameter)

    @classmethod
    def checked(cls, start_ns: int, end_ns: int, parameter: str = "start") -> TimeRange:
        if start_ns >= end_ns:
            raise InvalidParameterError(parameter, "the start of the time range must be before its end")
        return cls(start_ns, end_ns)

    @classmethod
    def last(cls, duration_ns: int, now: int | None = None) -> TimeRange:
        current = now_ns() if now is None else now
        return cls(current - duration_ns, current)
