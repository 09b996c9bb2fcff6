"""Product pages read the product on every request."""

from __future__ import annotations

from typing import Any

from catalog_async import db  # type: ignore[import-not-found]


async def load_product(product_id: int) -> dict[str, Any]:
    return dict(await db.DB.fetch_one("SELECT id, name, price FROM products WHERE id = ?", product_id))


async def product_page(product_id: int) -> str:
    product = await load_product(product_id)
    return f"{product['name']}: {product['price']:.2f}"
