"""The ``clickhouse_server`` fixture: a chDB-backed ClickHouse HTTP server of the test's own.

Import it into a test module (``from tests.support.fixtures_clickhouse import clickhouse_server``) to
use tsdev's server mode (an ``http://`` DSN) against a real engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.clickhouse_server import ClickHouseServer


@pytest.fixture
def clickhouse_server(tmp_path: Path) -> Iterator[ClickHouseServer]:
    server = ClickHouseServer(tmp_path / "clickhouse").start()
    yield server
    server.stop()
