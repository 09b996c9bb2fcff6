"""What a running server holds: settings, the store, the writer and self-metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from tsdev.analysis.forecast.refit import ForecastRefitter, RefitSettings
from tsdev.analysis.jobs import IntervalScheduler, run_incremental
from tsdev.core.settings import Settings
from tsdev.core.store import Store
from tsdev.core.store.client import Retention, redact_dsn
from tsdev.ingest.decode.batch import warm_up_decoders
from tsdev.ingest.pipeline import IngestPipeline
from tsdev.ingest.spool import Spool
from tsdev.ingest.telemetry import IngestMetrics
from tsdev.ingest.writer import BatchWriter
from tsdev.server.roles import Parts, check_role, parts_of

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    store: Store
    metrics: IngestMetrics = field(default_factory=IngestMetrics)
    writer: BatchWriter = field(init=False)
    pipeline: IngestPipeline = field(init=False)
    ready: bool = False
    stop_servers: Callable[[], None] = field(default=lambda: None, repr=False)
    scheduler: IntervalScheduler | None = field(default=None, repr=False)
    forecast_refitter: ForecastRefitter = field(init=False, repr=False)
    forecast_scheduler: IntervalScheduler | None = field(default=None, repr=False)
    parts: Parts = field(init=False)

    def __post_init__(self) -> None:
        self.parts = parts_of(self.settings)
        # One refitter for the forecast job and the API's on-demand fits, so both share kept models.
        self.forecast_refitter = ForecastRefitter(self.store, RefitSettings.from_settings(self.settings))
        self.writer = BatchWriter(
            self.store,
            self.metrics,
            max_rows=self.settings.batch_max_rows,
            linger_seconds=self.settings.batch_linger_seconds,
            max_queued_rows=self.settings.max_queued_rows,
            spool=self._spool(),
        )
        self.pipeline = IngestPipeline(
            self.writer,
            self.metrics,
            self.settings.max_inflight_bytes,
            engine_decode=self.settings.ingest_engine_decode and self.store.is_embedded,
        )

    def _spool(self) -> Spool | None:
        """The receivers' spool; a process without receivers writes nothing, so it keeps none."""
        if not self.parts.receivers:
            return None
        return Spool(self.settings.effective_spool_dir, self.settings.spool_max_bytes)

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        """Check the role fits the store, connect to the store and migrate it (blocking: call before
        serving). Raises :class:`~tsdev.server.roles.RoleError` before touching the store."""
        check_role(settings)
        url = settings.effective_clickhouse_url
        if url.startswith("chdb:"):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = Store.connect(
            url,
            settings.clickhouse_database,
            Retention(settings.traces_ttl_days, settings.logs_ttl_days, settings.metrics_ttl_days),
        )
        logger.info("store ready at %s, database %s", redact_dsn(url), settings.clickhouse_database)
        runtime = cls(settings, store)
        if runtime.parts.receivers:
            warm_up_decoders()
        return runtime

    async def start(self) -> None:
        if self.parts.receivers:
            self.writer.start()
        # Without a Redis URL the process serving the API runs analysis here; with one, Celery beat and
        # workers run it instead (see parts_of).
        interval = self.settings.analysis_interval_seconds
        if self.parts.jobs:
            self.scheduler = IntervalScheduler(self.store, interval, self._analysis_pass)
            self.scheduler.start()
            self.forecast_scheduler = IntervalScheduler(self.store, interval, self.forecast_refitter.run_job)
            self.forecast_scheduler.start()
        self.ready = True

    def _analysis_pass(self, store: Store) -> None:
        """One incremental pass, then the scheduled advisor when ``TSDEV_ADVISOR_SCHEDULE_REPO`` is set
        (it logs its own failures, so it never stops the schedule)."""
        run_incremental(store)
        if self.settings.advisor_schedule_repo:
            from tsdev.advisor.schedule import run_after_analysis

            run_after_analysis(store, self.settings)

    async def stop(self) -> None:
        """Commit what is pending, then close the store."""
        self.ready = False
        if self.scheduler is not None:
            await asyncio.to_thread(self.scheduler.stop)
        if self.forecast_scheduler is not None:
            await asyncio.to_thread(self.forecast_scheduler.stop)
        await self.writer.close()
        self.store.close()
