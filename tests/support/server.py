"""tsdev's receivers and API served from the test process, on the session's embedded store.

Running in-process (rather than as a subprocess) lets a test read the very store the server writes
to while it runs, which chDB's one-engine-per-process rule would otherwise forbid. The code path is the
one ``tsdev serve`` uses; the subprocess tests in ``tests/test_serve_process.py`` cover the command
itself.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from tests.support.ports import free_port
from tsdev.core.settings import Settings
from tsdev.core.store import Store
from tsdev.ingest.decode.batch import warm_up_decoders
from tsdev.server.background import BackgroundServer
from tsdev.server.runtime import Runtime


class InProcessServer(BackgroundServer):
    """The session's store served by tsdev's own runtime; ``**settings`` override the defaults."""

    def __init__(self, store: Store, **settings: Any) -> None:
        settings.setdefault("data_dir", Path(tempfile.mkdtemp(prefix="tsdev-test-")))
        self.store = store
        super().__init__(
            Runtime(
                Settings(
                    host="127.0.0.1",
                    otlp_grpc_port=free_port(),
                    otlp_http_port=free_port(),
                    api_port=free_port(),
                    clickhouse_database=store.database,
                    **settings,
                ),
                _Unclosable(store),  # type: ignore[arg-type]
            )
        )
        warm_up_decoders()


class _Unclosable:
    """The session store, shielded from the server's close at shutdown."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def close(self) -> None:
        pass
