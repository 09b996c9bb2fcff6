"""Storing the autoscaler's decisions and reading them back for the API.

The loop writes through a :class:`DecisionSink`: straight to the store when it runs beside it, or to
tsdev's API (``POST /api/v1/scaling/{app}/decisions``) when it runs in the cluster, where it has no
ClickHouse credentials. Either way the rows land in ``tsdev_scaling_decisions``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from tsdev.core.store.ddl_scaling import SCALING_DECISIONS
from tsdev.platform.policy import Decision

if TYPE_CHECKING:
    from tsdev.core.store import Store

logger = logging.getLogger(__name__)

_COLUMNS = (
    "DecidedAt",
    "App",
    "Namespace",
    "ForecastValue",
    "ForecastQuantile",
    "ForecastAt",
    "ForecastFittedAt",
    "Desired",
    "CurrentFloor",
    "CurrentReplicas",
    "Applied",
    "KedaValue",
    "MinReplicas",
    "MaxReplicas",
    "Target",
    "DryRun",
    "Reason",
)


@dataclass(frozen=True)
class DecisionRecord:
    """A stored decision, flat, as the API serves it."""

    decided_at: datetime
    app: str
    namespace: str
    forecast_value: float | None
    forecast_quantile: float | None
    forecast_at: datetime | None
    forecast_fitted_at: datetime | None
    desired: int
    current_floor: int
    current_replicas: int
    applied: int
    keda_value: float
    min_replicas: int
    max_replicas: int
    target: str
    dry_run: bool
    reason: str

    @classmethod
    def of(cls, d: Decision) -> DecisionRecord:
        f = d.forecast
        return cls(
            decided_at=d.decided_at,
            app=d.app,
            namespace=d.namespace,
            forecast_value=f.value if f else None,
            forecast_quantile=f.quantile if f else None,
            forecast_at=f.at if f else None,
            forecast_fitted_at=f.fitted_at if f else None,
            desired=d.desired,
            current_floor=d.current_floor,
            current_replicas=d.current_replicas,
            applied=d.applied,
            keda_value=d.keda_value,
            min_replicas=d.min_replicas,
            max_replicas=d.max_replicas,
            target=d.target,
            dry_run=d.dry_run,
            reason=d.reason,
        )

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            out[key] = value.isoformat() if isinstance(value, datetime) else value
        return out

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> DecisionRecord:
        data = dict(body)
        for key in ("decided_at", "forecast_at", "forecast_fitted_at"):
            if data.get(key) is not None:
                data[key] = _utc(datetime.fromisoformat(str(data[key]).replace("Z", "+00:00")))
        return cls(**data)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _naive(value: datetime | None) -> datetime | None:
    """ClickHouse DateTime64 columns take UTC wall time."""
    return None if value is None else _utc(value).replace(tzinfo=None)


def record_decisions(store: Store, records: list[DecisionRecord]) -> None:
    import pyarrow as pa

    if not records:
        return
    rows = [
        (
            _naive(r.decided_at),
            r.app,
            r.namespace,
            r.forecast_value,
            r.forecast_quantile,
            _naive(r.forecast_at),
            _naive(r.forecast_fitted_at),
            r.desired,
            r.current_floor,
            r.current_replicas,
            r.applied,
            r.keda_value,
            r.min_replicas,
            r.max_replicas,
            r.target,
            r.dry_run,
            r.reason,
        )
        for r in records
    ]
    ms = pa.timestamp("ms")
    types = (
        ms, pa.string(), pa.string(), pa.float64(), pa.float64(), ms, ms,
        pa.uint32(), pa.uint32(), pa.uint32(), pa.uint32(), pa.float64(), pa.uint32(), pa.uint32(),
        pa.string(), pa.bool_(), pa.string(),
    )  # fmt: skip
    columns = list(zip(*rows, strict=True))
    table = pa.table(
        {name: pa.array(list(col), type=t) for name, col, t in zip(_COLUMNS, columns, types, strict=True)}
    )
    store.insert_arrow(SCALING_DECISIONS, table)


def list_decisions(store: Store, app: str, limit: int = 100) -> list[DecisionRecord]:
    """The newest ``limit`` decisions of ``app``, newest first."""
    rows = store.query_rows(
        f"SELECT {', '.join(_COLUMNS)} FROM {store.table(SCALING_DECISIONS)} "  # noqa: S608
        "WHERE App = {app:String} ORDER BY DecidedAt DESC LIMIT {limit:UInt32}",
        {"app": app, "limit": limit},
    )
    out = []
    for row in rows:
        values = list(row)
        for i in (0, 5, 6):
            if values[i] is not None:
                values[i] = _utc(values[i])
        out.append(
            DecisionRecord(
                decided_at=values[0],
                app=values[1],
                namespace=values[2],
                forecast_value=values[3],
                forecast_quantile=values[4],
                forecast_at=values[5],
                forecast_fitted_at=values[6],
                desired=int(values[7]),
                current_floor=int(values[8]),
                current_replicas=int(values[9]),
                applied=int(values[10]),
                keda_value=float(values[11]),
                min_replicas=int(values[12]),
                max_replicas=int(values[13]),
                target=str(values[14]),
                dry_run=bool(values[15]),
                reason=str(values[16]),
            )
        )
    return out


KEDA_STALE_SECONDS = 300
"""A latest decision older than this means the autoscaler is not running: KEDA is then served the
minimum (at least 1) instead of a value nobody is keeping current, so a stopped autoscaler can never hold
an app at zero."""


def keda_value(record: DecisionRecord, now: datetime) -> tuple[float, bool]:
    """The value served to KEDA from the latest decision, and whether that decision was stale."""
    if record.dry_run or (now - record.decided_at).total_seconds() > KEDA_STALE_SECONDS:
        return float(max(record.min_replicas, 1)), True
    return record.keda_value, False


class DecisionSink(Protocol):
    def write(self, records: list[DecisionRecord]) -> None:
        """Persist ``records``; failures are logged, never raised into the control loop."""


class StoreDecisionSink:
    def __init__(self, store: Store) -> None:
        self._store = store

    def write(self, records: list[DecisionRecord]) -> None:
        try:
            record_decisions(self._store, records)
        except Exception:
            logger.warning("storing %s scaling decisions failed", len(records), exc_info=True)


class HttpDecisionSink:
    def __init__(self, server: str, token: str | None = None) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=server.rstrip("/"), headers=headers, timeout=10.0)

    def write(self, records: list[DecisionRecord]) -> None:
        import httpx

        for record in records:
            try:
                response = self._http.post(f"/api/v1/scaling/{record.app}/decisions", json=record.as_json())
                if response.status_code >= 300:
                    logger.warning("tsdev refused the decision for %s: %s", record.app, response.status_code)
            except httpx.TransportError as exc:
                logger.warning("cannot reach tsdev to store the decision for %s: %s", record.app, exc)

    def close(self) -> None:
        self._http.close()
