"""The lead learned from pods' creation-to-Ready times."""

from __future__ import annotations

from typing import Any

from tsdev.platform.lead import learned_lead_seconds, start_to_ready_seconds


def _pod(created: str, ready: str | None, status: str = "True") -> dict[str, Any]:
    conditions = [] if ready is None else [{"type": "Ready", "status": status, "lastTransitionTime": ready}]
    return {"metadata": {"creationTimestamp": created}, "status": {"conditions": conditions}}


def test_only_ready_pods_count() -> None:
    pods = [
        _pod("2026-05-04T08:00:00Z", "2026-05-04T08:01:30Z"),
        _pod("2026-05-04T08:00:00Z", None),
        _pod("2026-05-04T08:00:00Z", "2026-05-04T08:05:00Z", status="False"),
    ]
    assert start_to_ready_seconds(pods) == [90.0]


def test_slow_pods_lengthen_the_lead_but_fast_ones_never_shorten_it() -> None:
    slow = [_pod("2026-05-04T08:00:00Z", f"2026-05-04T08:0{m}:00Z") for m in (2, 3, 4, 5)]
    assert learned_lead_seconds(slow, configured=180) == 330  # p90 300 s + one 30 s tick
    fast = [_pod("2026-05-04T08:00:00Z", "2026-05-04T08:00:05Z")]
    assert learned_lead_seconds(fast, configured=180) == 180
    assert learned_lead_seconds([], configured=120) == 120
