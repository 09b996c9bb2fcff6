"""tsdev's receivers and API served from a background thread of the calling process.

For callers that must read the store the server writes while it runs: chDB allows one engine per
process, so the demo and the test suite serve in-process instead of starting ``tsdev serve``. The
serving code path is the one ``tsdev serve`` runs.
"""

from __future__ import annotations

import asyncio
import random
import socket
import threading
import time
from pathlib import Path
from typing import Self

import httpx

from tsdev.server.runtime import Runtime
from tsdev.server.serve import run_servers

_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST_PICK = 10_000


def _ephemeral_ports() -> range:
    """The ports the kernel hands to outgoing connections (Linux's default when it cannot tell)."""
    try:
        low, high = (int(part) for part in _EPHEMERAL_RANGE.read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(low, high + 1)


def _bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now, chosen below the ephemeral range where one can be: a
    port the kernel picks for us is one it may also give an outgoing connection before the caller
    binds it (address already in use)."""
    ephemeral = _ephemeral_ports()
    if ephemeral.start > _LOWEST_PICK + 100:
        for _ in range(50):
            port = random.randrange(_LOWEST_PICK, ephemeral.start)
            if _bindable(host, port):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        chosen: int = sock.getsockname()[1]
        return chosen


class BackgroundServer:
    """Serves ``runtime`` from a daemon thread; :meth:`stop` commits what is pending."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self._thread = threading.Thread(target=self._run, name="tsdev-background-server", daemon=True)
        self._error: BaseException | None = None

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

    def start(self, timeout_s: float = 60.0) -> Self:
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
