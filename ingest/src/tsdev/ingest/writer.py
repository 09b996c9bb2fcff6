"""The batching writer: group commit of concurrent requests, acknowledged only once stored.

Requests hand their decoded rows to :meth:`BatchWriter.write` and wait. One task takes everything
that queued up while the previous insert ran (up to ``max_rows``), merges it per table and inserts each
table once. So under load inserts grow large by themselves, and an idle server adds no delay. Under
load the writer also waits a moment (``linger_seconds``) for as many requests as its previous batch
held: the clients of that batch send their next requests as soon as they are answered, and without
the wait the first few to arrive would go in an insert of their own, every other time. Each insert
writes a part per table and view (and small parts are merged again later), so halving the inserts
saves more than the wait costs. A
request's future resolves only after every table it touched is committed; if an insert fails, the
requests in that batch get the error and nothing of theirs is acknowledged, unless a spool is
configured: then the failed table's rows are written durably to the spool, the requests succeed, and
the writer replays the spool into the store as soon as it answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from tsdev.core.store import Store
from tsdev.ingest.decode import TableRows
from tsdev.ingest.engine import CheckFirst, EngineRows, commit_in_engine
from tsdev.ingest.spool import Spool
from tsdev.ingest.telemetry import IngestMetrics

logger = logging.getLogger(__name__)


class WriterClosed(RuntimeError):
    """The writer is shutting down and takes no more rows."""


class QueueFull(RuntimeError):
    """More rows wait for their commit than the writer may hold."""


@dataclass
class _Pending:
    rows: Sequence[TableRows | EngineRows]
    done: asyncio.Future[None]
    num_rows: int = field(init=False)

    def __post_init__(self) -> None:
        self.num_rows = sum(table_rows.num_rows for table_rows in self.rows)


class BatchWriter:
    def __init__(
        self,
        store: Store,
        metrics: IngestMetrics,
        max_rows: int = 100_000,
        max_queued_rows: int = 1_000_000,
        spool: Spool | None = None,
        replay_interval_seconds: float = 1.0,
        linger_seconds: float = 0.03,
    ) -> None:
        self._store = store
        self._spool = spool
        self._replay_interval = replay_interval_seconds
        self._max_queued_rows = max_queued_rows
        self.queued_rows = 0
        self._metrics = metrics
        self._max_rows = max_rows
        self._linger = linger_seconds
        self._previous_batch = 0
        self._check_first = CheckFirst()
        self._queue: list[_Pending] = []
        self._wakeup = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="tsdev-batch-writer")

    async def write(self, rows: Sequence[TableRows | EngineRows]) -> None:
        """Return once ``rows`` are committed; raise the store's error if they could not be."""
        rows = [table_rows for table_rows in rows if table_rows.num_rows]
        if not rows:
            return
        if self._closing:
            raise WriterClosed("server is shutting down")
        pending = _Pending(rows, asyncio.get_running_loop().create_future())
        if self.queued_rows and self.queued_rows + pending.num_rows > self._max_queued_rows:
            raise QueueFull(f"{self.queued_rows} rows are waiting for the store")
        self.queued_rows += pending.num_rows
        self._queue.append(pending)
        self._wakeup.set()
        try:
            await pending.done
        finally:
            self.queued_rows -= pending.num_rows

    async def close(self) -> None:
        """Commit everything already queued, then stop."""
        self._closing = True
        self._wakeup.set()
        if self._task is not None:
            await self._task

    async def _gather(self) -> None:
        """Wait up to the linger time for as many requests as the previous batch held."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._linger
        while (
            not self._closing
            and len(self._queue) < self._previous_batch
            and sum(pending.num_rows for pending in self._queue) < self._max_rows
        ):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), remaining)

    def _take_batch(self) -> list[_Pending]:
        batch: list[_Pending] = []
        total = 0
        while self._queue and (not batch or total + self._queue[0].num_rows <= self._max_rows):
            pending = self._queue.pop(0)
            batch.append(pending)
            total += pending.num_rows
        return batch

    async def _run(self) -> None:
        await self._replay_spool()
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._wakeup.clear()
                if self._spool is None or self._spool.is_empty():
                    await self._wakeup.wait()
                else:
                    try:
                        await asyncio.wait_for(self._wakeup.wait(), self._replay_interval)
                    except TimeoutError:
                        await self._replay_spool()
                continue
            await self._gather()
            batch = self._take_batch()
            self._previous_batch = len(batch)
            try:
                failed_tables = await asyncio.to_thread(self._commit, batch)
            except Exception as exc:
                # Whatever went wrong, the batch's requests get an answer and the writer goes on.
                logger.exception("could not commit a batch of %s requests", len(batch))
                failed_tables = {r.table: exc for pending in batch for r in pending.rows}
            for pending in batch:
                if pending.done.done():
                    continue
                errors = [failed_tables[r.table] for r in pending.rows if r.table in failed_tables]
                if errors:
                    pending.done.set_exception(errors[0])
                else:
                    pending.done.set_result(None)

    async def _replay_spool(self) -> None:
        if self._spool is None or self._spool.is_empty():
            return
        try:
            replayed = await asyncio.to_thread(self._spool.replay, self._store.insert_arrow)
        except Exception as exc:
            logger.info("store still unavailable, spool kept (%s bytes): %s", self._spool.size_bytes, exc)
            return
        if replayed:
            logger.info("replayed %s spooled batches into the store", replayed)
            self._metrics.spool_replayed.inc(replayed)

    def _commit(self, batch: list[_Pending]) -> dict[str, Exception]:
        """Insert the batch, one insert per table; return the tables that failed and why."""
        merged: dict[str, TableRows] = {}
        for_engine: dict[str, list[EngineRows]] = {}
        for pending in batch:
            for rows in pending.rows:
                if isinstance(rows, EngineRows):
                    for_engine.setdefault(rows.table, []).append(rows)
                else:
                    _merge_into(merged, rows)
        for table, engine_rows in for_engine.items():
            started = time.perf_counter()
            left = commit_in_engine(self._store, table, engine_rows, self._check_first)
            for rows in left:
                _merge_into(merged, rows)
            stored = sum(rows.num_rows for rows in engine_rows if rows.decoded is None)
            if stored:
                self._metrics.flush_seconds.observe(time.perf_counter() - started)
                self._metrics.batches.labels(table, "ok").inc()
                self._metrics.rows.labels(table).inc(stored)
        failed: dict[str, Exception] = {}
        for table, table_rows in merged.items():
            started = time.perf_counter()
            arrow = table_rows.to_arrow()
            try:
                self._store.insert_arrow(table, arrow)
            except Exception as exc:
                logger.error("insert into %s failed (%s rows): %s", table, table_rows.num_rows, exc)
                self._metrics.batches.labels(table, "error").inc()
                if self._spool is None:
                    failed[table] = exc
                    continue
                try:
                    self._spool.append(table, arrow)
                except Exception as spool_error:
                    logger.error(
                        "could not spool %s rows for %s: %s", table_rows.num_rows, table, spool_error
                    )
                    failed[table] = spool_error
                    continue
                self._metrics.spooled_rows.labels(table).inc(table_rows.num_rows)
                continue
            self._metrics.flush_seconds.observe(time.perf_counter() - started)
            self._metrics.batches.labels(table, "ok").inc()
            self._metrics.rows.labels(table).inc(table_rows.num_rows)
        return failed


def _merge_into(merged: dict[str, TableRows], rows: TableRows) -> None:
    target = merged.get(rows.table)
    if target is None:
        target = merged[rows.table] = TableRows(rows.table, rows.schema)
    target.extend(rows)
