"""The search tests share one seeded server per test (each test gets its own database)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.search.data import World, seed
from tests.support.server import InProcessServer


@pytest.fixture
def world(server: InProcessServer) -> World:
    return seed(server.otlp_url)


@pytest.fixture
def api(server: InProcessServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.api_url, timeout=30) as client:
        yield client
