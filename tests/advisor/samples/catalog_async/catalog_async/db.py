"""A database stand-in that counts queries and takes a little time per query."""

from __future__ import annotations

import asyncio
from typing import Any

PRODUCTS = {i: {"id": i, "name": f"product {i}", "price": 10.0 + i} for i in range(1, 51)}


class Database:
    def __init__(self, latency_s: float = 0.0) -> None:
        self.latency_s = latency_s
        self.queries = 0

    async def fetch_one(self, sql: str, *params: Any) -> dict[str, Any]:
        self.queries += 1
        await asyncio.sleep(self.latency_s)
        return dict(PRODUCTS[params[0]])


DB = Database()
