"""Run the receivers and the API in one process, on one event loop.

Each part is its own uvicorn server on its own port. Signals are handled here, not by uvicorn, so that
SIGTERM or Ctrl-C stops both servers (no new requests), lets in-flight requests finish, commits what
the writer holds and closes the store before the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

import uvicorn
from starlette.applications import Starlette

from tsdev.core.settings import Settings
from tsdev.ingest.http_receiver import OtlpHttpReceiver
from tsdev.server.api import create_api
from tsdev.server.runtime import Runtime

logger = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # signals are handled once for all servers by :func:`serve_async`


def build_receiver_app(runtime: Runtime) -> Starlette:
    receiver = OtlpHttpReceiver(
        runtime.writer,
        runtime.metrics,
        max_request_bytes=runtime.settings.max_request_bytes,
        tokens=runtime.settings.ingest_tokens,
    )
    return receiver.app()


def _server(app: object, settings: Settings, port: int) -> _Server:
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=settings.host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=30,
    )
    return _Server(config)


async def run_servers(runtime: Runtime, *, handle_signals: bool = True) -> None:
    """Serve the receivers and the API for ``runtime`` until a signal (or :func:`request_stop`)."""
    settings = runtime.settings
    await runtime.start()
    servers = [
        _server(build_receiver_app(runtime), settings, settings.otlp_http_port),
        _server(create_api(runtime), settings, settings.api_port),
    ]
    runtime.stop_servers = lambda: _stop(servers)
    if handle_signals:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, _on_signal, signum, servers)
    logger.info(
        "tsdev serving OTLP/HTTP on %s:%s and the API on %s:%s",
        settings.host,
        settings.otlp_http_port,
        settings.host,
        settings.api_port,
    )
    try:
        results = await asyncio.gather(*(server.serve() for server in servers), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                logger.error("a server stopped with an error: %s", result)
        if any(not server.started for server in servers):
            raise SystemExit("could not start: is a port already in use?")
    finally:
        await runtime.stop()
        logger.info("stopped; everything acknowledged is stored")


def _stop(servers: list[_Server]) -> None:
    for server in servers:
        server.should_exit = True


def _on_signal(signum: int, servers: list[_Server]) -> None:
    logger.info("received %s, shutting down", signal.Signals(signum).name)
    _stop(servers)


async def serve_async(settings: Settings) -> None:
    runtime = await asyncio.to_thread(Runtime.open, settings)
    await run_servers(runtime)


def serve(settings: Settings) -> None:
    asyncio.run(serve_async(settings))
