import asyncio

from catalog_async import catalog  # type: ignore[import-not-found]


def test_product_page_shows_name_and_price() -> None:
    assert asyncio.run(catalog.product_page(3)) == "product 3: 13.00"


def test_pages_of_different_products_differ() -> None:
    async def both() -> tuple[str, str]:
        return await catalog.product_page(1), await catalog.product_page(2)

    first, second = asyncio.run(both())
    assert first != second
