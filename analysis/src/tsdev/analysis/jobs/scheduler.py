"""Embedded mode's scheduler: the incremental job on a thread, every interval.

A thread rather than an asyncio task because a pass is blocking work (a store query, then polars);
on the server's event loop it would stall ingest. chDB serialises store calls behind the store's own
lock, so ingest and analysis interleave query by query.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from tsdev.analysis.jobs.runner import run_incremental
from tsdev.core.store import Store

logger = logging.getLogger(__name__)


class IntervalScheduler:
    """Runs ``job(store)`` every ``interval_s`` seconds (first run after one interval) until stopped.

    A failing pass is logged and retried at the next tick; it never stops the scheduler or the server.
    """

    def __init__(
        self,
        store: Store,
        interval_s: float,
        job: Callable[[Store], object] = run_incremental,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("the analysis interval must be positive")
        self._store = store
        self._interval_s = interval_s
        self._job = job
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="tsdev-analysis", daemon=True)
        self._thread.start()
        logger.info("analysis runs in-process every %s s", self._interval_s)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop ticking and wait for a pass in progress (idempotent)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                logger.warning("an analysis pass is still running after %s s; not waiting longer", timeout_s)
            self._thread = None

    def _loop(self) -> None:
        while not self._stopping.wait(self._interval_s):
            try:
                self._job(self._store)
            except Exception:
                logger.exception("analysis pass failed; retrying at the next interval")
            self.passes += 1
