"""``/api/v1/scaling``: decisions stored by the autoscaler are served, and KEDA reads a safe value."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx

from tests.support.server import InProcessServer
from tsdev.core.store import Store
from tsdev.platform.decisions import DecisionRecord, HttpDecisionSink, StoreDecisionSink, list_decisions


def _now() -> datetime:
    """Taken when a record is built, not at import: the suite may run this test minutes after
    collecting it, and the KEDA endpoint judges staleness against the clock."""
    return datetime.now(UTC).replace(microsecond=0)


def _record(**kw: object) -> DecisionRecord:
    now = _now()
    base = DecisionRecord(
        decided_at=now,
        app="checkout",
        namespace="shop",
        forecast_value=42.5,
        forecast_quantile=0.9,
        forecast_at=now + timedelta(minutes=3),
        forecast_fitted_at=now - timedelta(minutes=5),
        desired=5,
        current_floor=3,
        current_replicas=3,
        applied=5,
        keda_value=5.0,
        min_replicas=2,
        max_replicas=10,
        target="hpa",
        dry_run=False,
        reason="q0.9 forecast 42.5 rps / 10 rps per replica = 5",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_decisions_round_trip_through_the_store(fresh_store: Store) -> None:
    older = _record(
        decided_at=_now() - timedelta(seconds=30), applied=3, forecast_value=None, forecast_at=None
    )
    latest = _record()
    StoreDecisionSink(fresh_store).write([older, latest])
    newest, oldest = list_decisions(fresh_store, "checkout")
    assert newest == latest
    assert oldest.forecast_value is None and oldest.applied == 3
    assert list_decisions(fresh_store, "other") == []


def test_decisions_are_served_newest_first(server: InProcessServer) -> None:
    StoreDecisionSink(server.store).write(
        [_record(decided_at=_now() - timedelta(seconds=30), applied=4), _record()]
    )
    body = httpx.get(f"{server.api_url}/api/v1/scaling/checkout").json()
    assert body["app"] == "checkout"
    assert [d["applied"] for d in body["decisions"]] == [5, 4]
    first = body["decisions"][0]
    assert first["reason"].startswith("q0.9 forecast 42.5 rps")
    assert first["forecast_quantile"] == 0.9
    assert first["target"] == "hpa"


def test_keda_reads_the_latest_value_and_a_safe_one_when_stale(server: InProcessServer) -> None:
    url = f"{server.api_url}/api/v1/scaling/checkout/keda"
    assert httpx.get(url).status_code == 404
    StoreDecisionSink(server.store).write([_record(keda_value=0.0)])
    body = httpx.get(url).json()
    assert (body["value"], body["stale"]) == (0.0, False)
    StoreDecisionSink(server.store).write(
        [_record(app="billing", keda_value=0.0, decided_at=_now() - timedelta(minutes=10))]
    )
    stale = httpx.get(f"{server.api_url}/api/v1/scaling/billing/keda").json()
    assert (stale["value"], stale["stale"]) == (2.0, True)


def test_the_http_sink_stores_through_the_api(server: InProcessServer) -> None:
    sink = HttpDecisionSink(server.api_url)
    sink.write([_record(app="search", applied=7)])
    sink.close()
    (stored,) = list_decisions(server.store, "search")
    assert stored.applied == 7
    wrong = httpx.post(f"{server.api_url}/api/v1/scaling/other/decisions", json=_record().as_json())
    assert wrong.status_code == 400
