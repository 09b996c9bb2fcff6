"""Micro-benchmark: milliseconds for 10 profile pages with 20 ms per backend call."""

import asyncio
import json
import time

from profile_async import profile  # type: ignore[import-not-found]

profile.LATENCY_S["value"] = 0.02


async def main() -> None:
    for i in range(10):
        await profile.get_profile(i)


start = time.perf_counter()
asyncio.run(main())
elapsed = (time.perf_counter() - start) * 1000
print(json.dumps({"metric": "elapsed_ms", "value": round(elapsed, 1), "higher_is_better": False}))
