"""The search tests share one seeded server per test (each test gets its own database)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.search.data import World, seed
from tests.support.server import InProcessServer
from tsdev.core.store import Store


@pytest.fixture
def world(server: InProcessServer) -> World:
    return seed(server.otlp_url)


@pytest.fixture
def api(server: InProcessServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.api_url, timeout=30) as client:
        yield client


@pytest.fixture
def bare_store(embedded_store: Store) -> Iterator[Store]:
    """A store on the session's engine with a database of its own and no migration applied yet, to
    test what a migration does to data stored before it."""
    database = f"t_{uuid.uuid4().hex[:12]}"
    yield embedded_store.with_database(database)
    embedded_store.command(f"DROP DATABASE IF EXISTS {database}")
