from countries_sync import countries  # type: ignore[import-not-found]


def test_header_lists_countries_in_order() -> None:
    assert countries.invoice_header(["FR", "DE", "FR"]) == "France, Germany, France"
