"""tsdev served from the demo's own process, on free ports and a data directory of its own.

In-process rather than a ``tsdev serve`` subprocess: chDB allows one engine per process, so the demo
can only read the store it shows (findings, forecasts) while the server writes it if both share the
process. The serving code path is the one ``tsdev serve`` runs.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path

import httpx

from tsdev.core.settings import Settings
from tsdev.core.store import Store
from tsdev.server.runtime import Runtime
from tsdev.server.serve import run_servers


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now; the demo must not collide with a ``make serve``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedTsdev:
    """Receivers and API for ``data_dir`` in a background thread; ``stop`` commits and closes."""

    def __init__(self, data_dir: Path, host: str = "127.0.0.1") -> None:
        # Explicit values override any TSDEV_* variable of the shell: the demo always runs embedded,
        # on its own ports, and runs analysis itself instead of on the server's schedule.
        self.settings = Settings(
            data_dir=data_dir,
            clickhouse_url="",
            host=host,
            otlp_grpc_port=free_port(host),
            otlp_http_port=free_port(host),
            api_port=free_port(host),
            analysis_interval_seconds=0,
            redis_url="",
            ingest_tokens=(),
            api_tokens=(),
            traces_ttl_days=0,
            logs_ttl_days=0,
        )
        self.runtime = Runtime.open(self.settings)
        self._thread = threading.Thread(target=self._run, name="tsdev-demo-server", daemon=True)
        self._error: BaseException | None = None

    @property
    def store(self) -> Store:
        return self.runtime.store

    @property
    def otlp_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.otlp_http_port}"

    @property
    def grpc_endpoint(self) -> str:
        return f"{self.settings.host}:{self.settings.otlp_grpc_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.api_port}"

    def _run(self) -> None:
        try:
            asyncio.run(run_servers(self.runtime, handle_signals=False))
        except BaseException as exc:  # reported by start() and stop()
            self._error = exc

    def start(self, timeout_s: float = 60.0) -> EmbeddedTsdev:
        """Serve, and return once the API answers ``/readyz`` (the store is migrated by then)."""
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._error is not None:
                raise RuntimeError("tsdev did not start") from self._error
            try:
                if httpx.get(f"{self.api_url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"tsdev did not become ready within {timeout_s:g} s")

    def stop(self) -> None:
        """Stop taking requests, commit what is pending and close the store (idempotent)."""
        if self._thread.is_alive():
            self.runtime.stop_servers()
            self._thread.join(timeout=60)
        if self._error is not None:
            raise RuntimeError("tsdev failed") from self._error
