"""Reads and writes of ``tsdev_findings`` and ``tsdev_analysis_watermark``; the only SQL of the jobs.

Writes append a whole row with a higher ``Version`` (see :mod:`tsdev.core.store.ddl_findings`);
reads use ``FINAL``. A change is therefore read-modify-write, and :data:`WRITE_LOCK` serialises those
within a process (the scheduler thread and API requests of one server). Across processes (several
Celery workers) two writers of the same finding in the same instant can lose one change; the next
pass repairs counts and times, and a status a person set is re-read on every write.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any, Final

import pyarrow as pa

from tsdev.analysis.jobs.records import FindingRecord, SettableStatus, set_status
from tsdev.core.store import Store
from tsdev.core.store.ddl_findings import ANALYSIS_WATERMARK, FINDINGS

WRITE_LOCK: Final = threading.RLock()

_COLUMNS: Final = (
    "Fingerprint", "Kind", "ServiceName", "Status", "Severity", "Title", "ParentOperation", "Operations",
    "Evidence", "EstimatedSavingMsPerHour", "SuggestedChange", "FirstSeen", "LastSeen", "TimesSeen",
    "TracesAffected", "ServiceVersions", "CountedFrom", "CountedUntil", "StatusChangedAt",
    "ResolvedVersion", "PrNumber", "PrUrl", "PrState", "Version",
)  # fmt: skip
_TIMES: Final = frozenset({"FirstSeen", "LastSeen", "CountedFrom", "CountedUntil", "StatusChangedAt"})
_SELECT: Final = ", ".join(f"toUnixTimestamp64Nano({c})" if c in _TIMES else c for c in _COLUMNS)

_STRINGS = pa.string()
_LIST = pa.list_(pa.string())
_TIME = pa.timestamp("ns")
_TYPES: Final[dict[str, pa.DataType]] = {
    "Operations": _LIST, "ServiceVersions": _LIST, "EstimatedSavingMsPerHour": pa.float64(),
    "TimesSeen": pa.uint64(), "TracesAffected": pa.uint64(), "PrNumber": pa.uint64(),
    "Version": pa.uint64(), **dict.fromkeys(_TIMES, _TIME),
}  # fmt: skip


def _record(row: Sequence[Any]) -> FindingRecord:
    v = dict(zip(_COLUMNS, row, strict=True))
    return FindingRecord(
        fingerprint=v["Fingerprint"], kind=v["Kind"], service=v["ServiceName"], status=v["Status"],
        severity=v["Severity"], title=v["Title"], parent_operation=v["ParentOperation"],
        operations=tuple(v["Operations"]), evidence=json.loads(v["Evidence"] or "{}"),
        estimated_saving_ms_per_hour=float(v["EstimatedSavingMsPerHour"]),
        suggested_change=v["SuggestedChange"], first_seen_ns=int(v["FirstSeen"]),
        last_seen_ns=int(v["LastSeen"]), times_seen=int(v["TimesSeen"]),
        traces_affected=int(v["TracesAffected"]), service_versions=tuple(v["ServiceVersions"]),
        counted_from_ns=int(v["CountedFrom"]), counted_until_ns=int(v["CountedUntil"]),
        status_changed_ns=int(v["StatusChangedAt"]), resolved_version=v["ResolvedVersion"],
        pr_number=None if v["PrNumber"] is None else int(v["PrNumber"]), pr_url=v["PrUrl"],
        pr_state=v["PrState"], version=int(v["Version"]),
    )  # fmt: skip


def _values(record: FindingRecord) -> tuple[Any, ...]:
    return (
        record.fingerprint, record.kind, record.service, record.status, record.severity, record.title,
        record.parent_operation, list(record.operations),
        json.dumps(record.evidence, sort_keys=True, separators=(",", ":")),
        record.estimated_saving_ms_per_hour, record.suggested_change, record.first_seen_ns,
        record.last_seen_ns, record.times_seen, record.traces_affected, list(record.service_versions),
        record.counted_from_ns, record.counted_until_ns, record.status_changed_ns, record.resolved_version,
        record.pr_number, record.pr_url, record.pr_state, record.version,
    )  # fmt: skip


def _select(store: Store, where: str, parameters: dict[str, Any], suffix: str = "") -> list[FindingRecord]:
    # Only constant column names and conditions are interpolated; values are bound parameters.
    sql = f"SELECT {_SELECT} FROM {store.table(FINDINGS)} FINAL WHERE {where} {suffix}"  # noqa: S608
    return [_record(row) for row in store.query_rows(sql, parameters)]


def get(store: Store, fingerprint: str) -> FindingRecord | None:
    rows = _select(store, "Fingerprint = {fp:String}", {"fp": fingerprint})
    return rows[0] if rows else None


def get_many(store: Store, fingerprints: Iterable[str]) -> dict[str, FindingRecord]:
    wanted = sorted(set(fingerprints))
    if not wanted:
        return {}
    rows = _select(store, "Fingerprint IN {fps:Array(String)}", {"fps": wanted})
    return {row.fingerprint: row for row in rows}


def active_of_services(store: Store, services: Iterable[str], statuses: Iterable[str]) -> list[FindingRecord]:
    """Findings of these services in these statuses: the candidates for automatic resolution."""
    names = sorted(set(services))
    if not names:
        return []
    return _select(
        store,
        "ServiceName IN {services:Array(String)} AND Status IN {statuses:Array(String)}",
        {"services": names, "statuses": sorted(set(statuses))},
    )


def search(
    store: Store,
    *,
    kind: str | None = None,
    service: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[FindingRecord]:
    """Findings matching every given filter, largest estimated saving first."""
    conditions = ["1"]
    parameters: dict[str, Any] = {"limit": limit}
    for column, name, value in (("Kind", "kind", kind), ("ServiceName", "service", service),
                                ("Status", "status", status)):  # fmt: skip
        if value:
            conditions.append(f"{column} = {{{name}:String}}")
            parameters[name] = value
    return _select(
        store,
        " AND ".join(conditions),
        parameters,
        "ORDER BY EstimatedSavingMsPerHour DESC, Fingerprint LIMIT {limit:UInt32}",
    )


def write(store: Store, records: Sequence[FindingRecord]) -> list[FindingRecord]:
    """Insert ``records`` as the newest version of each finding (one insert for all of them)."""
    if not records:
        return []
    now = time.time_ns()
    stamped = [r.replace(version=max(now, r.version + 1)) for r in records]
    rows = [_values(r) for r in stamped]
    columns = {
        name: pa.array([row[i] for row in rows], type=_TYPES.get(name, _STRINGS))
        for i, name in enumerate(_COLUMNS)
    }
    store.insert_arrow(FINDINGS, pa.table(columns))
    return stamped


def get_watermark(store: Store, job: str) -> int | None:
    """End (ns) of the last window job ``job`` finished, or ``None`` before its first run."""
    rows = store.query_rows(
        f"SELECT toUnixTimestamp64Nano(Watermark) FROM {store.table(ANALYSIS_WATERMARK)} FINAL "  # noqa: S608
        "WHERE Job = {job:String}",
        {"job": job},
    )
    return int(rows[0][0]) if rows else None


def set_watermark(store: Store, job: str, end_ns: int) -> None:
    store.command(
        f"INSERT INTO {store.table(ANALYSIS_WATERMARK)} (Job, Watermark, UpdatedAt) "  # noqa: S608
        "VALUES ({job:String}, fromUnixTimestamp64Nano({end:Int64}), fromUnixTimestamp64Nano({now:Int64}))",
        {"job": job, "end": end_ns, "now": time.time_ns()},
    )


def change_status(store: Store, fingerprint: str, status: SettableStatus) -> FindingRecord | None:
    """Set a person's status on a finding; ``None`` when no finding has this fingerprint."""
    with WRITE_LOCK:
        record = get(store, fingerprint)
        if record is None:
            return None
        changed = set_status(record, status, time.time_ns())
        if changed is record:
            return record
        return write(store, [changed])[0]
