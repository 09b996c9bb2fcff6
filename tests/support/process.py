"""``tsdev serve`` as a separate process, the way a user runs it, and a reader for its data directory.

The reader runs in a subprocess too: chDB binds one data directory per process, and the test process
already holds the session store.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from tests.support.ports import free_port

TSDEV = str(Path(sys.executable).parent / "tsdev")


class ServeProcess:
    """``tsdev serve`` on free ports; ``args`` are extra flags (``--role ingest``), ``env`` extra
    variables."""

    def __init__(self, data_dir: Path, *, args: Sequence[str] = (), **env: str) -> None:
        self.data_dir = data_dir
        self.args = list(args)
        self.otlp_port = free_port()
        self.grpc_port = free_port()
        self.api_port = free_port()
        self.env = {**os.environ, **env}
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}-serve.log"

    @property
    def otlp_url(self) -> str:
        return f"http://127.0.0.1:{self.otlp_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self, timeout: float = 60.0) -> ServeProcess:
        command = [
            TSDEV,
            "serve",
            "--data-dir",
            str(self.data_dir),
            "--otlp-http-port",
            str(self.otlp_port),
            "--otlp-grpc-port",
            str(self.grpc_port),
            "--api-port",
            str(self.api_port),
            *self.args,
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tsdev serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.api_url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise TimeoutError(f"tsdev serve did not become ready:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        assert self.process is not None
        self.process.send_signal(signum)
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def read_store(data_dir: Path, sql: str) -> list[list[Any]]:
    """Rows of ``sql`` run on the embedded store in ``data_dir`` (the server must be stopped).

    The store is opened bare, without migrations, so that reading cannot change retention."""
    script = (
        "import json, sys\n"
        "import clickhouse_connect\n"
        "client = clickhouse_connect.get_client(dsn='chdb://' + sys.argv[1])\n"
        "print(json.dumps(client.query(sys.argv[2]).result_rows, default=str))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(data_dir / "clickhouse"), sql],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rows: list[list[Any]] = json.loads(result.stdout.strip().splitlines()[-1])
    return rows
