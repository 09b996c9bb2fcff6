"""Request-rate series per service (or operation) from the store, computed in ClickHouse.

The rate is read from ``tsdev_service_red_1m`` (per-minute counts a materialized view keeps as spans
arrive), never by reading spans into Python: a week of one service is 10 080 rows whatever its traffic.
Only server spans count, the requests a service answered, as in the services table of the API.

Minutes without a row are requests that did not happen, so the grid is completed with zeros by
ClickHouse (``WITH FILL``). A zero is wrong, though, when tsdev itself received nothing: an outage of
the receiver or of the path to it. Such minutes are marked as gaps (``NaN``), so models fill them from
the season instead of learning a dip that never happened. An outage is a run of at least
``OUTAGE_MINUTES`` minutes in which no span of any service was stored, while this service had been
answering at least ``OUTAGE_MIN_RATE`` requests per minute in the hour before: a quiet night of a
small service is not an outage, silence of a busy one while everything else is silent too is.

The last, still filling, minute is left out: counting it would show a drop at the end of every series.
"""

# ruff: noqa: S608  # SQL is assembled from fixed fragments; every caller value is a bound {pN:Type}

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from tsdev.analysis.forecast._series import RegularSeries
from tsdev.core.query._sql import DEFAULT_LIMITS, Params, QueryLimits, checked_value, run
from tsdev.core.store import Store

SERVICE_RED_1M = "tsdev_service_red_1m"
MINUTE = np.timedelta64(60, "s").astype("timedelta64[ns]")
DEFAULT_LOOKBACK = timedelta(weeks=8)
"""History read for a fit: what the models use at most (``ModelForecaster.history``)."""
OUTAGE_MINUTES = 10
OUTAGE_MIN_RATE = 1.0


@dataclass(frozen=True)
class TrafficSummary:
    """A service's server requests in the lookback and the minutes they span."""

    service: str
    requests: int
    first_minute: datetime
    last_minute: datetime


def _naive_utc(moment: datetime | None) -> datetime:
    now = moment or datetime.now(UTC)
    return now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now


def _epoch(naive_utc: datetime) -> int:
    return int(naive_utc.replace(tzinfo=UTC).timestamp())


def _end_minute(now: datetime | None) -> datetime:
    """Exclusive end of complete minutes: the start of the current minute."""
    return _naive_utc(now).replace(second=0, microsecond=0)


def services_with_traffic(
    store: Store,
    *,
    min_requests: int = 1,
    lookback: timedelta = DEFAULT_LOOKBACK,
    now: datetime | None = None,
    limits: QueryLimits = DEFAULT_LIMITS,
) -> list[TrafficSummary]:
    """Services with at least ``min_requests`` server requests in complete minutes of the lookback."""
    end = _end_minute(now)
    params = Params()
    start_s, end_s = params.int64(_epoch(end - lookback)), params.int64(_epoch(end))
    sql = f"""
        SELECT ServiceName, sum(Requests) AS requests, min(Minute), max(Minute)
        FROM {store.table(SERVICE_RED_1M)}
        WHERE SpanKind = 'Server'
          AND Minute >= toDateTime({start_s}, 'UTC') AND Minute < toDateTime({end_s}, 'UTC')
        GROUP BY ServiceName
        HAVING requests >= {params.int64(min_requests)}
        ORDER BY ServiceName"""
    return [
        TrafficSummary(name, int(requests), _naive_utc(first), _naive_utc(last))
        for name, requests, first, last in run(store, sql, params, limits)
    ]


def request_rate(
    store: Store,
    service: str,
    operation: str | None = None,
    *,
    since: datetime | None = None,
    lookback: timedelta = DEFAULT_LOOKBACK,
    now: datetime | None = None,
    limits: QueryLimits = DEFAULT_LIMITS,
) -> RegularSeries | None:
    """Requests per minute of ``service`` (or one of its operations), 1-minute step, gaps filled.

    The series starts at the service's first minute with traffic in the lookback (or at ``since``,
    for an incremental read) and ends with the last complete minute. ``None`` when the service had
    no server request in that window.
    """
    window = read_window(since, lookback, now)
    if window is None:
        return None
    start, end = window
    params = Params()
    start_s, end_s = params.int64(_epoch(start)), params.int64(_epoch(end))
    mine = [f"ServiceName = {params.string(checked_value(service, 'service'))}", "SpanKind = 'Server'"]
    if operation is not None:
        mine.append(f"SpanName = {params.string(checked_value(operation, 'operation'))}")
    # One pass over the minutes of every service: this service's requests and everyone's, so a minute
    # of total silence (a possible outage) is told from a minute in which only this service was idle.
    sql = f"""
        SELECT Minute, sumIf(Requests, {" AND ".join(mine)}) AS own, sum(Requests) AS everyone
        FROM {store.table(SERVICE_RED_1M)}
        WHERE Minute >= toDateTime({start_s}, 'UTC') AND Minute < toDateTime({end_s}, 'UTC')
        GROUP BY Minute
        ORDER BY Minute WITH FILL
            FROM toDateTime({start_s}, 'UTC') TO toDateTime({end_s}, 'UTC') STEP INTERVAL 1 MINUTE"""
    rows = run(store, sql, params, limits)
    if not rows:
        return None
    own = np.array([float(row[1]) for row in rows])
    everyone = np.array([float(row[2]) for row in rows])
    return minute_series(rows[0][0], own, everyone, incremental=since is not None)


def read_window(
    since: datetime | None, lookback: timedelta, now: datetime | None
) -> tuple[datetime, datetime] | None:
    """Minutes ``[start, end)`` a read covers: the lookback, or from ``since`` for an incremental
    read, up to the last complete minute; ``None`` when that is empty."""
    end = _end_minute(now)
    start = end - lookback if since is None else max(_end_minute(since), end - lookback)
    return (start, end) if start < end else None


def minute_series(
    minute0: datetime, own: np.ndarray, everyone: np.ndarray, *, incremental: bool
) -> RegularSeries | None:
    """The series of a service's per-minute counts ``own`` from ``minute0``, outages marked.

    A full read starts at the service's first minute with traffic; an incremental one where it was
    asked to. ``None`` when the service had no traffic at all.
    """
    active = np.flatnonzero(own > 0)
    if active.size == 0:
        return None
    first = 0 if incremental else int(active[0])
    start = np.datetime64(_naive_utc(minute0), "ns")
    return RegularSeries(start + first * MINUTE, MINUTE, mark_outages(own, everyone)[first:])


def mark_outages(
    own: np.ndarray,
    everyone: np.ndarray,
    min_minutes: int = OUTAGE_MINUTES,
    min_rate: float = OUTAGE_MIN_RATE,
) -> np.ndarray:
    """``own`` with runs of global silence set to ``NaN`` where the service was busy just before."""
    out = own.astype(np.float64, copy=True)
    silent = everyone == 0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], silent.astype(np.int8), [0]])))
    for begin, stop in zip(edges[::2], edges[1::2], strict=True):
        if stop - begin < min_minutes or begin == 0:
            continue
        before = own[max(0, begin - 60) : begin]
        if before.size and float(before.mean()) >= min_rate:
            out[begin:stop] = np.nan
    return out
