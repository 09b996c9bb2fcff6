"""tsdev's receivers and API served from the test process, on the session's embedded store.

Running in-process (rather than as a subprocess) lets a test read the very store the server writes
to while it runs, which chDB's one-engine-per-process rule would otherwise forbid. The code path is the
one ``tsdev serve`` uses; the subprocess tests in ``tests/test_serve_process.py`` cover the command
itself.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.ports import free_port
from tsdev.core.settings import Settings
from tsdev.core.store import Store
from tsdev.ingest.decode.batch import warm_up_decoders
from tsdev.server.runtime import Runtime
from tsdev.server.serve import run_servers


class InProcessServer:
    def __init__(self, store: Store, **settings: Any) -> None:
        settings.setdefault("data_dir", Path(tempfile.mkdtemp(prefix="tsdev-test-")))
        self.settings = Settings(
            host="127.0.0.1",
            otlp_grpc_port=free_port(),
            otlp_http_port=free_port(),
            api_port=free_port(),
            clickhouse_database=store.database,
            **settings,
        )
        self.store = store
        self.runtime = Runtime(self.settings, _Unclosable(store))  # type: ignore[arg-type]
        warm_up_decoders()
        self._thread = threading.Thread(target=self._run, name="tsdev-test-server", daemon=True)
        self._error: BaseException | None = None

    @property
    def otlp_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.otlp_http_port}"

    @property
    def grpc_endpoint(self) -> str:
        return f"127.0.0.1:{self.settings.otlp_grpc_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.api_port}"

    def _run(self) -> None:
        try:
            asyncio.run(run_servers(self.runtime, handle_signals=False))
        except BaseException as exc:  # surfaced by start()/stop()
            self._error = exc

    def start(self, timeout: float = 30.0) -> InProcessServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._error is not None:
                raise RuntimeError("test server failed to start") from self._error
            try:
                if httpx.get(f"{self.api_url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise TimeoutError("test server did not become ready")

    def stop(self) -> None:
        self.runtime.stop_servers()
        self._thread.join(timeout=60)
        if self._error is not None:
            raise RuntimeError("test server failed") from self._error


class _Unclosable:
    """The session store, shielded from the server's close at shutdown."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def close(self) -> None:
        pass
