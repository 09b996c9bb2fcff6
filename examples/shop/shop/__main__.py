"""``python -m shop``: serve the shop (and its stubs); ``python -m shop traffic ...`` drives it."""

from __future__ import annotations

import logging
import signal
import sys
import threading

from shop.config import ShopConfig


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "traffic":
        from shop import traffic

        return traffic.main(args[1:])
    if args and args[0] not in {"serve"}:
        print("usage: python -m shop [serve | traffic --help]", file=sys.stderr)
        return 2
    from shop import server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = ShopConfig.from_env()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    running = server.start(config)
    logging.getLogger("shop").info(
        "shop on %s, stubs on %s, exporting to %s", running.url, running.stubs_url, config.otlp_endpoint
    )
    while not stop.wait(1.0):
        pass
    running.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
