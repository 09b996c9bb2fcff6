"""The services table computed the slow, direct way, to check the rollups that serve it."""

from __future__ import annotations

from tsdev.core.query import TimeRange
from tsdev.core.query import services as queries
from tsdev.core.query._sql import Params, run
from tsdev.core.query.services import ServiceStats
from tsdev.core.store import Store


def services_from_minutes(store: Store, time_range: TimeRange) -> list[ServiceStats]:
    """Every service's figures merged from the per-minute, per-operation table alone, as the services
    table was computed before the rollups."""
    params = Params()
    sql = f"""
        SELECT ServiceName, sumIf(Requests, SpanKind = 'Server'), sumIf(Errors, SpanKind = 'Server'),
               quantilesTDigestMergeIf(0.5, 0.95, 0.99)(DurationQuantiles, SpanKind = 'Server')
        FROM {store.table(queries.SERVICE_RED_1M)}
        WHERE {queries._minutes(time_range, params)}
        GROUP BY ServiceName
        ORDER BY ServiceName"""
    return [ServiceStats(n, queries._red(r, e, q)) for n, r, e, q in run(store, sql, params)]
