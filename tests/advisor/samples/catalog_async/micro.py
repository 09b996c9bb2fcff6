"""Micro-benchmark: queries made by 500 product page views over 20 products."""

import asyncio
import json

from catalog_async import catalog, db  # type: ignore[import-not-found]


async def main() -> None:
    db.DB = db.Database()
    for i in range(500):
        await catalog.product_page(1 + i % 20)
    print(json.dumps({"metric": "queries", "value": db.DB.queries, "higher_is_better": False}))


asyncio.run(main())
