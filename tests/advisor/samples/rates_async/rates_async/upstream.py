"""A rates service that times out now and then, as remote services do."""

from __future__ import annotations

import random

RATES = {"EUR": 1.08, "GBP": 1.27, "JPY": 0.0067}


class Upstream:
    def __init__(self, failure_rate: float = 0.0, seed: int = 7) -> None:
        self.failure_rate = failure_rate
        self.calls = 0
        self._random = random.Random(seed)

    async def get(self, currency: str) -> float:
        self.calls += 1
        if self._random.random() < self.failure_rate:
            raise TimeoutError("rates upstream timed out")
        return RATES[currency]


UPSTREAM = Upstream()
