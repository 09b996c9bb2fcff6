"""Distributed mode: the same jobs as Celery tasks, with Redis as broker and result store.

The tasks are thin wrappers over :mod:`tsdev.analysis.jobs.runner`; beat sends ``run_incremental``
every ``TSDEV_ANALYSIS_INTERVAL_SECONDS``. Each worker process opens its own store from the same
``TSDEV_*`` settings as the server (a ClickHouse server DSN: chDB's data directory belongs to one
process), once, on its first task.

Start with ``tsdev worker`` and ``tsdev beat``, or ``celery -A tsdev.analysis.jobs.distributed
worker`` / ``beat`` (the module-level :data:`app` reads the settings at import).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Any, Final

from celery import Celery  # type: ignore[import-untyped]

from tsdev.analysis.forecast.refit import ForecastRefitter, RefitSettings
from tsdev.analysis.jobs.records import Window
from tsdev.analysis.jobs.runner import analyze_range, run_incremental
from tsdev.core.settings import Settings, load_settings
from tsdev.core.store import Store
from tsdev.core.store.client import Retention, redact_dsn

logger = logging.getLogger(__name__)

RUN_INCREMENTAL: Final = "tsdev.analysis.run_incremental"
ANALYZE_RANGE: Final = "tsdev.analysis.analyze_range"
REFIT_FORECASTS: Final = "tsdev.analysis.refit_forecasts"

_store_lock = threading.Lock()
_stores: dict[str, Store] = {}
_refitters: dict[int, ForecastRefitter] = {}


def worker_store(settings: Settings) -> Store:
    """This process's store for ``settings``, connected (and migrated) on first use."""
    key = f"{settings.effective_clickhouse_url}#{settings.clickhouse_database}"
    with _store_lock:
        if key not in _stores:
            url = settings.effective_clickhouse_url
            if url.startswith("chdb:"):
                logger.warning(
                    "the worker opens the embedded store at %s; this fails while a server uses it",
                    redact_dsn(url),
                )
                settings.data_dir.mkdir(parents=True, exist_ok=True)
            _stores[key] = Store.connect(
                url,
                settings.clickhouse_database,
                Retention(settings.traces_ttl_days, settings.logs_ttl_days, settings.metrics_ttl_days),
            )
        return _stores[key]


def _advise_after_pass(store: Store, settings: Settings) -> None:
    """The scheduled advisor after a pass, when ``TSDEV_ADVISOR_SCHEDULE_REPO`` is set. The advisor is
    an optional part of an installation: imported only then, and any failure is logged, not raised."""
    if not settings.advisor_schedule_repo:
        return
    try:
        from tsdev.advisor.schedule import run_after_analysis
    except ImportError:
        logger.warning("TSDEV_ADVISOR_SCHEDULE_REPO is set but tsdev-advisor is not installed")
        return
    run_after_analysis(store, settings)


def create_app(settings: Settings | None = None) -> Celery:
    """A Celery app with the analysis tasks and their beat schedule, configured from ``settings``."""
    settings = settings if settings is not None else load_settings()
    app = Celery("tsdev", broker=settings.redis_url or None, backend=settings.redis_url or None)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=3600,
        task_acks_late=True,  # a pass killed with its worker runs again; passes are idempotent
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        timezone="UTC",
    )
    if settings.analysis_interval_seconds > 0:
        app.conf.beat_schedule = {
            "tsdev-analysis": {"task": RUN_INCREMENTAL, "schedule": settings.analysis_interval_seconds},
            "tsdev-forecasts": {"task": REFIT_FORECASTS, "schedule": settings.analysis_interval_seconds},
        }

    @app.task(name=RUN_INCREMENTAL, ignore_result=False)  # type: ignore[untyped-decorator]
    def run_incremental_task() -> list[dict[str, Any]]:
        store = worker_store(settings)
        summaries = [summary.to_dict() for summary in run_incremental(store)]
        _advise_after_pass(store, settings)
        return summaries

    @app.task(name=ANALYZE_RANGE)  # type: ignore[untyped-decorator]
    def analyze_range_task(start_ns: int, end_ns: int) -> dict[str, Any]:
        return analyze_range(worker_store(settings), Window(start_ns, end_ns)).to_dict()

    @app.task(name=REFIT_FORECASTS)  # type: ignore[untyped-decorator]
    def refit_forecasts_task() -> list[dict[str, Any]]:
        # A worker keeps its refitter (and so its fitted models) between tasks: incremental updates
        # whenever the same worker gets the task again, a full fit otherwise.
        store = worker_store(settings)
        with _store_lock:
            refitter = _refitters.setdefault(
                id(store), ForecastRefitter(store, RefitSettings.from_settings(settings))
            )
        return [dataclasses.asdict(outcome) for outcome in refitter.run()]

    return app


app = create_app()
