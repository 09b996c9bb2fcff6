"""Micro-benchmark: queries for 100 order histories."""

import json

from orders_nplus1 import orders  # type: ignore[import-not-found]

for user in range(100):
    orders.order_history(user)
print(json.dumps({"metric": "queries", "value": orders.QUERIES["count"], "higher_is_better": False}))
