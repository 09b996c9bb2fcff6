from orders_nplus1 import orders  # type: ignore[import-not-found]


def test_history_lists_items_per_order() -> None:
    assert orders.order_history(5) == {1: ["book"], 2: ["pen", "ink"], 3: ["lamp"]}
