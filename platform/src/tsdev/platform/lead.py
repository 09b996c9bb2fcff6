"""The lead time learned from the cluster: how long this app's pods really take from creation to Ready.

A floor raised ``lead`` seconds ahead only helps if pods are ready by then. The configured lead is a
guess; the pods' own ``creationTimestamp`` and the ``Ready`` condition's ``lastTransitionTime`` say what
it is. The autoscaler uses the larger of the two, so a slow image pull or a slow start lengthens the
lead instead of silently arriving late.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def start_to_ready_seconds(pods: list[dict[str, Any]]) -> list[float]:
    """Creation-to-Ready seconds of every pod that is Ready (pods not ready yet say nothing)."""
    out = []
    for pod in pods:
        created = _time((pod.get("metadata") or {}).get("creationTimestamp"))
        for condition in (pod.get("status") or {}).get("conditions") or []:
            if condition.get("type") == "Ready" and condition.get("status") == "True":
                ready = _time(condition.get("lastTransitionTime"))
                if created is not None and ready is not None and ready >= created:
                    out.append((ready - created).total_seconds())
    return out


def learned_lead_seconds(pods: list[dict[str, Any]], configured: int, margin: float = 30.0) -> int:
    """The configured lead, or the 90th percentile of observed start-to-ready plus ``margin`` (one
    control-loop tick) when that is longer."""
    observed = sorted(start_to_ready_seconds(pods))
    if not observed:
        return configured
    p90 = observed[min(len(observed) - 1, math.ceil(0.9 * len(observed)) - 1)]
    return max(configured, math.ceil(p90 + margin))
