"""Currency conversion for checkout."""

from __future__ import annotations

from rates_async.upstream import UPSTREAM  # type: ignore[import-not-found]


async def fetch_rate(currency: str) -> float:
    return float(await UPSTREAM.get(currency))


async def convert(amount: float, currency: str) -> float:
    return round(amount * await fetch_rate(currency), 2)
