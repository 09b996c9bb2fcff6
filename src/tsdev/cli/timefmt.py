"""How the CLI shows times and durations: local time for people, compact units for durations."""

from __future__ import annotations

from datetime import datetime


def local_time(unix_nano: int, with_date: bool = True) -> str:
    stamp = datetime.fromtimestamp(unix_nano / 1e9).astimezone()
    text = stamp.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")
    return f"{text}.{stamp.microsecond // 1000:03d}"


def duration(ns: float) -> str:
    """``850us``, ``12.3ms``, ``4.56s``: three significant figures, the unit that fits."""
    for unit, size in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= size:
            value = ns / size
            return f"{value:.3g}{unit}" if value < 1000 else f"{value:.0f}{unit}"
    return f"{ns:.0f}ns"
