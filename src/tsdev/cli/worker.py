"""``tsdev worker`` and ``tsdev beat``: distributed mode's Celery processes, configured like the
server (``TSDEV_REDIS_URL`` for the broker, ``TSDEV_CLICKHOUSE_URL`` for the store)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

REDIS_HELP = "Set TSDEV_REDIS_URL (redis://host:6379/0) to the broker the server and workers share."


def worker(
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", "-c", min=1, help="Worker processes (default: CPUs)")
    ] = None,
    pool: Annotated[str, typer.Option("--pool", help="prefork, solo or threads")] = "prefork",
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error")] = "info",
) -> None:
    """Run analysis tasks from the Redis queue (configured by TSDEV_REDIS_URL, TSDEV_CLICKHOUSE_URL...)."""
    app = _app()
    argv = ["worker", f"--loglevel={log_level.upper()}", f"--pool={pool}", "--without-gossip"]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    app.worker_main(argv)


def beat(
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error")] = "info",
) -> None:
    """Send an analysis pass to the workers every TSDEV_ANALYSIS_INTERVAL_SECONDS (run exactly one)."""
    from tsdev.core.settings import load_settings

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    schedule = settings.data_dir / "celerybeat-schedule"
    _app().start(["beat", f"--loglevel={log_level.upper()}", f"--schedule={schedule}"])


def _app() -> Any:
    from tsdev.cli.output import EXIT_USAGE, abort
    from tsdev.core.settings import load_settings

    if not load_settings().redis_url:
        abort(f"distributed mode needs a broker. {REDIS_HELP}", EXIT_USAGE)
    from tsdev.analysis.jobs.distributed import app

    return app
