"""Request bodies the store's engine flattens itself, and the commit step that sends them there.

Decoding OTLP in Python costs tens of microseconds a span, most of it reading protobuf fields one
by one. On the embedded store, ClickHouse can read the same bytes with its Protobuf input format and
unroll them with ``ARRAY JOIN`` at a fraction of that. A protobuf request is still parsed in Python
first (that rejects malformed bodies and invalid UTF-8 with a 400, and counts the items), but its
rows are left to the engine. The engine stores only requests it renders exactly as the Python
decoder does (see ``Flattening.flat``); the others, and every request of a batch the engine fails
on, are decoded in Python and inserted the usual way, so no request is lost. A batch is first
inserted without a check, in one statement that stores nothing when a request is not surely flat
(``commit_in_engine``). (If the store fails part way through an engine insert, after one of its
threads wrote a part, that part's rows are inserted again by the Python path: the same at-least-once
outcome as a spool replay cut short.)
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tsdev.core.store import Store, tables
from tsdev.ingest.decode import Decoded, TableRows
from tsdev.ingest.engine.logs import LOGS
from tsdev.ingest.engine.sql import ENGINE_THREADS, NOT_FLAT, Flattening
from tsdev.ingest.engine.traces import TRACES

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class EngineRows:
    """One protobuf export request whose rows the engine will produce."""

    table: str
    body: bytes
    num_rows: int
    python_decode: Callable[[bytes], Decoded]
    decoded: Decoded | None = None
    """Set when the request took the Python path: what it stored and refused, for the response."""

    def decode_in_python(self) -> list[TableRows]:
        self.decoded = self.python_decode(self.body)
        return self.decoded.rows


ENGINE_TABLES: dict[str, Flattening] = {tables.TRACES: TRACES, tables.LOGS: LOGS}
"""Tables the engine path can fill, with how they are filled."""


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _write_requests(bodies: list[bytes], directory: Path) -> list[int]:
    """The bodies as up to ``ENGINE_THREADS`` files of length-delimited messages (ClickHouse's
    ``Protobuf`` format) in ``directory``, consecutive runs of requests in the files' name order;
    return how many requests each file holds."""
    files = max(1, min(ENGINE_THREADS, len(bodies)))
    counts = [len(bodies) // files + (n < len(bodies) % files) for n in range(files)]
    start = 0
    for n, count in enumerate(counts):
        with open(directory / f"part-{n:02d}.pb", "wb") as file:
            for body in bodies[start : start + count]:
                file.write(_varint(len(body)))
                file.write(body)
        start += count
    return counts


def _flat_in_order(rows: list[tuple[object, ...]], counts: list[int]) -> list[bool] | None:
    """The check's verdicts in request order, or None when they do not add up to the files."""
    by_file: dict[str, list[bool]] = {}
    for name, flat in rows:
        by_file.setdefault(str(name), []).append(bool(flat))
    names = sorted(by_file)
    if [len(by_file[name]) for name in names] != counts:
        return None
    return [flat for name in names for flat in by_file[name]]


def _decoded_in_python(batch: list[EngineRows], exc: OSError) -> list[TableRows]:
    logger.warning("cannot hand %s requests to the engine, decoding in Python: %s", len(batch), exc)
    return [table_rows for rows in batch for table_rows in rows.decode_in_python()]


@dataclass
class CheckFirst:
    """Which batches the engine checks before inserting: a table's next ``batches`` batches after
    an unchecked insert into it failed. A stream of requests the unchecked insert refuses (say, log
    records without a body, which read like arrays there but which the check passes) then costs one
    failed statement in ``batches + 1``, and a single odd request only slows the batches after it."""

    batches: int = 16
    _left: dict[str, int] = field(default_factory=dict)

    def wanted(self, table: str) -> bool:
        """Whether to check the next batch of ``table`` first (counts it as one of them)."""
        left = self._left.get(table, 0)
        if left:
            self._left[table] = left - 1
        return left > 0

    def unchecked_failed(self, table: str) -> None:
        self._left[table] = self.batches


def commit_in_engine(
    store: Store, table: str, batch: list[EngineRows], check_first: CheckFirst | None = None
) -> list[TableRows]:
    """Store what the engine can of ``batch``; return the Python-decoded rows of the rest, which
    the caller inserts (or spools) like any other rows.

    Unless ``check_first`` wants this batch checked, the engine inserts the whole batch in one
    statement that stores nothing if a request is not surely flat; only then does it check each
    request and insert those it can. The check reads every request once more (about a sixth of the
    engine's work), which ``check_first`` saves where the unchecked insert often fails."""
    flattening = ENGINE_TABLES[table]
    try:
        scratch = tempfile.TemporaryDirectory(prefix="tsdev-otlp-")
    except OSError as exc:
        return _decoded_in_python(batch, exc)
    with scratch as directory:
        try:
            counts = _write_requests([rows.body for rows in batch], Path(directory))
        except OSError as exc:
            return _decoded_in_python(batch, exc)
        files = Path(directory) / "part-*.pb"
        items = sum(request.num_rows for request in batch)
        if (check_first is None or not check_first.wanted(table)) and _fits_one_block(batch, items):
            if _stored_unchecked(store, table, files, items):
                return []
            if check_first is not None:
                check_first.unchecked_failed(table)
        try:
            flat = _flat_in_order(store.query_rows(flattening.check_sql(files)), counts)
        except Exception as exc:
            logger.warning("engine could not read %s requests, decoding them in Python: %s", len(batch), exc)
            flat = None
        if flat is None:
            flat = [False] * len(batch)
        if any(flat):
            try:
                store.command(flattening.insert_sql(store.table(table), files, all_flat=all(flat)))
            except Exception as exc:
                logger.warning("engine insert into %s failed, decoding in Python: %s", table, exc)
                flat = [False] * len(batch)
    left: list[TableRows] = []
    for rows, stored in zip(batch, flat, strict=True):
        if not stored:
            left.extend(rows.decode_in_python())
    return left


UNCHECKED_MAX_ROWS = 1_000_000
UNCHECKED_MAX_BYTES = 64 * 1024 * 1024
"""The largest batch, in items and request bytes, inserted without a check: such a batch becomes one
block in the engine's memory (larger ones are split into blocks of about a million rows, as before)."""


def _fits_one_block(batch: list[EngineRows], items: int) -> bool:
    return items <= UNCHECKED_MAX_ROWS and sum(len(request.body) for request in batch) <= UNCHECKED_MAX_BYTES


def _stored_unchecked(store: Store, table: str, files: Path, items: int) -> bool:
    """Whether one unchecked insert stored the whole batch, all ``items`` of it (when not, it
    stored none of it)."""
    try:
        store.command(ENGINE_TABLES[table].unchecked_insert_sql(store.table(table), files, rows=items))
    except Exception as exc:
        if NOT_FLAT not in str(exc):
            logger.warning("engine insert into %s failed, checking each request: %s", table, exc)
        return False
    return True
