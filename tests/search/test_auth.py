"""With API tokens configured, search and Jaeger routes need one; health stays open."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.server import InProcessServer
from tsdev.core.store import Store


@pytest.fixture
def guarded(fresh_store: Store) -> Iterator[InProcessServer]:
    running = InProcessServer(fresh_store, api_tokens=("s3cret",)).start()
    yield running
    running.stop()


@pytest.mark.parametrize("path", ["/api/v1/services", "/api/v1/logs", "/jaeger/api/services"])
def test_routes_need_the_token(guarded: InProcessServer, path: str) -> None:
    assert httpx.get(guarded.api_url + path).status_code == 401
    wrong = httpx.get(guarded.api_url + path, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = httpx.get(guarded.api_url + path, headers={"Authorization": "Bearer s3cret"})
    assert right.status_code == 200


def test_health_needs_no_token(guarded: InProcessServer) -> None:
    assert httpx.get(guarded.api_url + "/healthz").status_code == 200
