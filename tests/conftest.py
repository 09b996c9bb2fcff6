"""Fixtures shared by the whole suite.

chDB runs one engine per process, bound to one data directory, so the suite opens one embedded store
for the whole session and isolates tests by giving each its own database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tsdev.core.store import Store
from tsdev.core.store.client import Retention

if TYPE_CHECKING:
    from tests.support.server import InProcessServer

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def session_store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("chdb-session")


@pytest.fixture(scope="session")
def embedded_store(session_store_dir: Path) -> Iterator[Store]:
    """The session's embedded store (database ``otel``)."""
    store = Store.connect(f"chdb://{session_store_dir}", "otel")
    yield store
    store.close()


@pytest.fixture
def fresh_store(embedded_store: Store) -> Iterator[Store]:
    """A store on the session's engine with a database of its own, migrated and empty.

    Retention is off so that fixed example data from years ago is kept."""
    database = f"t_{uuid.uuid4().hex[:12]}"
    store = embedded_store.with_database(database)
    store.migrate(Retention(traces_days=0, logs_days=0, metrics_days=0))
    yield store
    store.command(f"DROP DATABASE IF EXISTS {database}")


@pytest.fixture
def server(fresh_store: Store) -> Iterator[InProcessServer]:
    """tsdev's receivers and API, in-process, writing to ``fresh_store``."""
    from tests.support.server import InProcessServer

    running = InProcessServer(fresh_store).start()
    yield running
    running.stop()
