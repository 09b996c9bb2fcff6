"""tsdev served from the demo's own process, on free ports and a data directory of its own.

In-process rather than a ``tsdev serve`` subprocess, so the demo can read the store it shows
(findings, forecasts) while the server writes it; see :mod:`tsdev.server.background`.
"""

from __future__ import annotations

from pathlib import Path

from tsdev.core.settings import Settings
from tsdev.core.store import Store
from tsdev.server.background import BackgroundServer, free_port
from tsdev.server.runtime import Runtime

__all__ = ["EmbeddedTsdev"]


class EmbeddedTsdev(BackgroundServer):
    """Receivers and API for ``data_dir`` in a background thread; ``stop`` commits and closes."""

    def __init__(self, data_dir: Path, host: str = "127.0.0.1") -> None:
        # Explicit values override any TSDEV_* variable of the shell: the demo always runs embedded,
        # on its own ports, and runs analysis itself instead of on the server's schedule.
        settings = Settings(
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
        super().__init__(Runtime.open(settings))

    @property
    def store(self) -> Store:
        return self.runtime.store
