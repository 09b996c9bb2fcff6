"""Shipping quotes from a carrier API whose gateway answers 503 now and then."""

from __future__ import annotations

import random

QUOTE_URL = "http://carrier.internal/quotes/{zone}"


class Gateway:
    def __init__(self, failure_rate: float = 0.0, seed: int = 3) -> None:
        self.failure_rate = failure_rate
        self.calls = 0
        self._random = random.Random(seed)

    def get(self, url: str) -> dict[str, float]:
        self.calls += 1
        if self._random.random() < self.failure_rate:
            raise ConnectionError("503 from the carrier gateway")
        return {"price": 4.5 if url.endswith("/eu") else 9.0}


GATEWAY = Gateway()


def quote(zone: str) -> float:
    response = GATEWAY.get(QUOTE_URL.format(zone=zone))
    return response["price"]
