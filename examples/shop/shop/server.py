"""Serve the shop and its stubs with uvicorn on one event loop in a background thread.

A background thread rather than the main one so the same code runs the shop inside a test, a
notebook or ``tsdev demo`` and from ``python -m shop``; sockets are bound before the loop starts, so
port 0 picks a free port with no race and the URLs are known at once.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI

from shop.app import create_app
from shop.config import ShopConfig
from shop.downstream import create_stubs_app
from shop.telemetry import Telemetry


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Inherited by accepted connections. Without it, Nagle's algorithm holds each response body
    # until the client's delayed ACK (~40 ms) and the stub calls look slower than they are.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    return sock


@dataclass
class RunningShop:
    """The shop (``url``) and its stubs (``stubs_url``) while they run; ``stop`` ends both and
    flushes their telemetry."""

    url: str
    stubs_url: str
    telemetry: list[Telemetry]
    _servers: list[uvicorn.Server]
    _thread: threading.Thread
    _errors: list[BaseException] = field(default_factory=list)

    def stop(self, timeout_s: float = 30.0) -> None:
        for server in self._servers:
            server.should_exit = True
        self._thread.join(timeout_s)
        for telemetry in self.telemetry:
            telemetry.shutdown()
        if self._errors:
            raise RuntimeError("the shop failed") from self._errors[0]

    def __enter__(self) -> RunningShop:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def start(
    config: ShopConfig,
    *,
    port: int | None = None,
    stubs_port: int | None = None,
    export: bool | None = None,
    timeout_s: float = 30.0,
) -> RunningShop:
    """Start the shop, and the stubs unless ``config.stubs_url`` names running ones.

    ``port``/``stubs_port`` override the configuration (0: any free port); ``export`` overrides
    ``config.export_telemetry`` (False keeps traces in the process, for tests of the app alone)."""
    exporting = config.export_telemetry if export is None else export
    endpoint = config.otlp_endpoint if exporting else None
    apps: list[tuple[FastAPI, socket.socket]] = []
    telemetry: list[Telemetry] = []
    stubs_url = config.stubs_url
    if stubs_url is None:
        stubs_sock = _bind(config.host, config.stubs_port if stubs_port is None else stubs_port)
        stubs_url = _url(config.host, stubs_sock)
        stubs_telemetry = Telemetry.create(f"{config.service_name}-stubs", endpoint)
        telemetry.append(stubs_telemetry)
        apps.append((create_stubs_app(config, stubs_telemetry), stubs_sock))
    shop_sock = _bind(config.host, config.port if port is None else port)
    shop_telemetry = Telemetry.create(config.service_name, endpoint)
    telemetry.append(shop_telemetry)
    apps.append((create_app(config, stubs_url, shop_telemetry), shop_sock))

    servers = [
        uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False))
        for app, _ in apps
    ]
    errors: list[BaseException] = []

    async def serve_all() -> None:
        await asyncio.gather(*(s.serve(sockets=[sock]) for s, (_, sock) in zip(servers, apps, strict=True)))

    def run() -> None:
        try:
            asyncio.run(serve_all())
        except BaseException as exc:  # reported by stop() and start()
            errors.append(exc)

    thread = threading.Thread(target=run, name="shop", daemon=True)
    running = RunningShop(_url(config.host, shop_sock), stubs_url, telemetry, servers, thread, errors)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not all(s.started for s in servers):
        if errors or not thread.is_alive() or time.monotonic() > deadline:
            running.stop()
            raise RuntimeError("the shop did not start") from (errors[0] if errors else None)
        time.sleep(0.01)
    return running


def _url(host: str, sock: socket.socket) -> str:
    shown = "127.0.0.1" if host in {"0.0.0.0", ""} else host
    return f"http://{shown}:{sock.getsockname()[1]}"
