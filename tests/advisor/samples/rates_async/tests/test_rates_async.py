import asyncio

import pytest
from rates_async import rates, upstream  # type: ignore[import-not-found]


def test_convert_uses_the_upstream_rate() -> None:
    assert asyncio.run(rates.convert(100, "EUR")) == 108.0


def test_unknown_currency_is_an_error() -> None:
    with pytest.raises(KeyError):
        asyncio.run(rates.fetch_rate("XXX"))
    assert upstream.UPSTREAM.calls >= 1
