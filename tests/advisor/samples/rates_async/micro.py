"""Micro-benchmark: share of conversions that succeed while the upstream fails 20% of calls."""

import asyncio
import json

from rates_async import rates, upstream  # type: ignore[import-not-found]


async def main() -> None:
    upstream.UPSTREAM = upstream.Upstream(failure_rate=0.2, seed=1)
    rates.UPSTREAM = upstream.UPSTREAM
    ok = 0
    for _ in range(300):
        try:
            await rates.fetch_rate("EUR")
            ok += 1
        except TimeoutError:
            pass
    print(json.dumps({"metric": "success_rate", "value": ok / 300, "higher_is_better": True}))


asyncio.run(main())
