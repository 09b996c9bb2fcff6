"""Where a service's request rate comes from: its stored server spans, or a configured counter metric.

Spans are the default and need no configuration. A counter (``TSDEV_FORECAST_COUNTER_METRIC``) suits
services that are not traced or whose traces are sampled; when one is configured, the refit job, the
API and through it the CLI all read their series from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tsdev.analysis.forecast._series import RegularSeries
from tsdev.analysis.forecast.counter_sql import CounterMetric, counter_rate, services_with_counter_traffic
from tsdev.analysis.forecast.series_sql import (
    DEFAULT_LOOKBACK,
    TrafficSummary,
    request_rate,
    services_with_traffic,
)
from tsdev.core.settings import Settings
from tsdev.core.store import Store


@dataclass(frozen=True)
class RateSource:
    """Server spans when ``counter`` is ``None``, else the counter's increase per minute."""

    counter: CounterMetric | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> RateSource:
        if not settings.forecast_counter_metric:
            return cls()
        return cls(
            CounterMetric(
                settings.forecast_counter_metric,
                settings.forecast_counter_service_attribute,
                settings.forecast_counter_operation_attribute,
            )
        )

    def describe(self) -> str:
        return "server spans" if self.counter is None else self.counter.describe()

    def series(
        self,
        store: Store,
        service: str,
        operation: str | None = None,
        *,
        since: datetime | None = None,
        lookback: timedelta = DEFAULT_LOOKBACK,
        now: datetime | None = None,
    ) -> RegularSeries | None:
        """Requests per minute of ``service`` (or one operation), gaps filled and outages marked."""
        if self.counter is None:
            return request_rate(store, service, operation, since=since, lookback=lookback, now=now)
        return counter_rate(store, self.counter, service, operation, since=since, lookback=lookback, now=now)

    def services(
        self,
        store: Store,
        *,
        min_requests: int = 1,
        lookback: timedelta = DEFAULT_LOOKBACK,
        now: datetime | None = None,
    ) -> list[TrafficSummary]:
        """Services with at least ``min_requests`` requests in the lookback."""
        if self.counter is None:
            return services_with_traffic(store, min_requests=min_requests, lookback=lookback, now=now)
        return services_with_counter_traffic(
            store, self.counter, min_requests=min_requests, lookback=lookback, now=now
        )
