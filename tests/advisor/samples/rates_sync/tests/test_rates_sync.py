from rates_sync import client  # type: ignore[import-not-found]


def test_quote_per_zone() -> None:
    assert client.quote("eu") == 4.5
    assert client.quote("us") == 9.0
