"""Run the receivers and the API in one process, on one event loop.

OTLP/HTTP and the API are uvicorn servers on their own ports; OTLP/gRPC is a grpc.aio server. The role
(:mod:`tsdev.server.roles`) decides which of them run: ``ingest`` serves only health and self-metrics
on the API port, ``api`` no receivers. Signals are handled here, once for all servers, so that SIGTERM
or Ctrl-C stops them taking new requests, lets requests in flight finish, commits what the writer holds
and closes the store before the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

import grpc
import uvicorn
from starlette.applications import Starlette

from tsdev.core.settings import Settings
from tsdev.ingest.grpc_receiver import create_grpc_server
from tsdev.ingest.http_receiver import OtlpHttpReceiver
from tsdev.server.api import create_api, create_health_api
from tsdev.server.roles import describe
from tsdev.server.runtime import Runtime

logger = logging.getLogger(__name__)

GRACE_SECONDS = 30


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # signals are handled once for all servers by :func:`run_servers`


def build_receiver_app(runtime: Runtime) -> Starlette:
    receiver = OtlpHttpReceiver(
        runtime.pipeline,
        max_request_bytes=runtime.settings.max_request_bytes,
        tokens=runtime.settings.ingest_tokens,
    )
    return receiver.app()


def _http_server(app: object, settings: Settings, port: int) -> _Server:
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=settings.host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=GRACE_SECONDS,
    )
    return _Server(config)


async def _serve_grpc(server: grpc.aio.Server, stopping: asyncio.Event) -> None:
    await server.start()
    await stopping.wait()
    await server.stop(GRACE_SECONDS)


def _http_servers(runtime: Runtime) -> list[_Server]:
    """The OTLP/HTTP receiver if the role runs receivers, and the API port (full or health only)."""
    settings = runtime.settings
    servers = []
    if runtime.parts.receivers:
        servers.append(_http_server(build_receiver_app(runtime), settings, settings.otlp_http_port))
    api = create_api(runtime) if runtime.parts.full_api else create_health_api(runtime)
    servers.append(_http_server(api, settings, settings.api_port))
    return servers


def _grpc_server(runtime: Runtime) -> grpc.aio.Server | None:
    """The OTLP/gRPC receiver, or None if the role runs no receivers."""
    if not runtime.parts.receivers:
        return None
    settings = runtime.settings
    return create_grpc_server(
        runtime.pipeline,
        settings.host,
        settings.otlp_grpc_port,
        max_message_bytes=settings.max_request_bytes,
        tokens=settings.ingest_tokens,
    )


async def run_servers(runtime: Runtime, *, handle_signals: bool = True) -> None:
    """Serve what ``runtime``'s role runs until a signal or ``runtime.stop_servers()``."""
    loop = asyncio.get_running_loop()
    await runtime.start()
    http_servers = _http_servers(runtime)
    grpc_server = _grpc_server(runtime)
    stopping = asyncio.Event()

    def stop() -> None:
        for server in http_servers:
            server.should_exit = True
        stopping.set()

    def stop_from_any_thread() -> None:
        loop.call_soon_threadsafe(stop)

    runtime.stop_servers = stop_from_any_thread
    if handle_signals:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, _on_signal, signum, stop)
    logger.info(describe(runtime.settings))
    try:
        tasks = [server.serve() for server in http_servers]
        if grpc_server is not None:
            tasks.append(_serve_grpc(grpc_server, stopping))
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                logger.error("a server stopped with an error: %s", result)
        if any(not server.started for server in http_servers):
            raise SystemExit("could not start: is a port already in use?")
    finally:
        stop()
        if grpc_server is not None:
            await grpc_server.stop(0)
        await runtime.stop()
        logger.info("stopped; everything acknowledged is stored")


def _on_signal(signum: int, stop: object) -> None:
    logger.info("received %s, shutting down", signal.Signals(signum).name)
    assert callable(stop)
    stop()


async def serve_async(settings: Settings) -> None:
    runtime = await asyncio.to_thread(Runtime.open, settings)
    await run_servers(runtime)


def serve(settings: Settings) -> None:
    asyncio.run(serve_async(settings))
