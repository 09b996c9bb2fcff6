"""The chDB-backed ClickHouse HTTP server (``tests.support.clickhouse_http``) as a child process.

Tests start it on a free port, stop it (SIGTERM), kill it (SIGKILL) and start it again on the same
data directory and port to simulate a database outage; its log is kept next to the data directory.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from tests.support.ports import free_port

REPOSITORY = Path(__file__).resolve().parents[2]


class ClickHouseServer:
    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.log_path = data_dir.parent / f"{data_dir.name}-clickhouse-http.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """A DSN for clickhouse-connect and ``Store.connect``."""
        return f"http://default:@127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 60.0) -> ClickHouseServer:
        """Start the server and return once ``/ping`` answers."""
        if self.running:
            raise RuntimeError("the ClickHouse HTTP server is already running")
        command = [
            sys.executable,
            "-m",
            "tests.support.clickhouse_http",
            "--data-dir",
            str(self.data_dir),
            "--port",
            str(self.port),
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=REPOSITORY, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the ClickHouse HTTP server exited with {self.process.returncode}:\n{self.log()}"
                )
            if self.ping():
                return self
            time.sleep(0.05)
        self.kill()
        raise TimeoutError(f"the ClickHouse HTTP server did not answer /ping:\n{self.log()}")

    def ping(self) -> bool:
        try:
            response = httpx.get(f"http://127.0.0.1:{self.port}/ping", timeout=1)
        except httpx.TransportError:
            return False
        return response.status_code == 200 and response.text == "Ok.\n"

    def stop(self, timeout: float = 30.0) -> int | None:
        """Shut down cleanly (SIGTERM); returns the exit code, or None if it was not running."""
        if self.process is None or self.process.poll() is not None:
            return None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        """Stop abruptly (SIGKILL), as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self, timeout: float = 60.0) -> ClickHouseServer:
        self.stop()
        return self.start(timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> ClickHouseServer:
        return self if self.running else self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
