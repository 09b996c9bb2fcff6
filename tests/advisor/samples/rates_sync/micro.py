"""Micro-benchmark: share of quotes that succeed while the gateway fails 25% of calls."""

import json

from rates_sync import client  # type: ignore[import-not-found]

client.GATEWAY = client.Gateway(failure_rate=0.25, seed=11)
ok = 0
for _ in range(300):
    try:
        client.quote("eu")
        ok += 1
    except ConnectionError:
        pass
print(json.dumps({"metric": "success_rate", "value": ok / 300, "higher_is_better": True}))
