"""Declared events: windows in which traffic is expected to differ by a known factor (a sale day).

Until enough history of similar days exists, no model can learn such a day, so the declared
multiplier is the best available knowledge: models are fitted on history with past event windows
divided out (so a past sale does not inflate an ordinary Tuesday) and their forecasts are multiplied
back inside future windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from tsdev.analysis.forecast._series import FloatArray, TimeArray


@dataclass(frozen=True)
class Event:
    """An expected change of traffic by ``multiplier`` between ``start`` (inclusive) and ``end``.

    Times are naive UTC. ``service`` is ``None`` for an event that concerns every service; callers
    select the events that apply before handing them to a forecaster.
    """

    name: str
    start: datetime
    end: datetime
    multiplier: float
    service: str | None = None

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"event {self.name!r} ends before it starts")
        if not self.multiplier > 0:
            raise ValueError(f"event {self.name!r} needs a positive multiplier")


def as_events(x: object) -> tuple[Event, ...]:
    """Validate the ``X`` argument of ``fit``: ``None`` or a sequence of events."""
    if x is None:
        return ()
    if isinstance(x, Sequence) and all(isinstance(e, Event) for e in x):
        return tuple(x)
    raise TypeError("X must be None or a sequence of Event")


def _ns(moment: datetime) -> np.datetime64:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return np.datetime64(moment, "ns")


def multipliers(events: Sequence[Event], timestamps: TimeArray) -> FloatArray:
    """Product of the multipliers of the events active at each timestamp (1 where none is)."""
    out = np.ones(timestamps.shape[0])
    ts = timestamps.astype("datetime64[ns]")
    for event in events:
        active = (ts >= _ns(event.start)) & (ts < _ns(event.end))
        out[active] *= event.multiplier
    return out


def occurrences_before(events: Sequence[Event], moment: np.datetime64) -> int:
    """How many declared event windows ended before ``moment`` (history a model could learn from)."""
    return sum(1 for e in events if _ns(e.end) <= moment)
