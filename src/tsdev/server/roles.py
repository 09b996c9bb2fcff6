"""Which parts of tsdev one ``tsdev serve`` process runs, chosen by ``TSDEV_ROLE`` (``--role``).

``all`` runs everything in one process (the embedded mode); ``ingest`` and ``api`` split the receivers
from the API so that each scales on its own against a shared ClickHouse server. The API port always
answers health, readiness, version and self-metrics, so that one probe fits every role.
"""

from __future__ import annotations

from dataclasses import dataclass

from tsdev.core.settings import Settings


class RoleError(ValueError):
    """The role cannot run with the rest of the configuration."""


@dataclass(frozen=True)
class Parts:
    """What a role runs: the OTLP receivers (with their writer and spool), the full API (search,
    findings, forecasts, scaling, Jaeger; otherwise only health and self-metrics) and the in-process
    analysis jobs."""

    receivers: bool
    full_api: bool
    jobs: bool


def parts_of(settings: Settings) -> Parts:
    """The parts ``settings.role`` runs. Jobs go with the API, as they did in the single process, and
    only when Celery (``TSDEV_REDIS_URL``) does not run them and the interval is not 0."""
    full_api = settings.role in ("all", "api")
    jobs = full_api and not settings.redis_url and settings.analysis_interval_seconds > 0
    return Parts(receivers=settings.role in ("all", "ingest"), full_api=full_api, jobs=jobs)


def check_role(settings: Settings) -> None:
    """Refuse a split role on the embedded store: chDB allows one process per data directory, so a
    second process (the other role) could not open it."""
    if settings.role != "all" and settings.effective_clickhouse_url.startswith("chdb:"):
        raise RoleError(
            f"role {settings.role!r} (TSDEV_ROLE / --role) needs a ClickHouse server: set "
            "TSDEV_CLICKHOUSE_URL (--clickhouse-url) to http(s)://user:password@host:8123. The embedded "
            "chDB store allows one process per data directory, so it runs only with role 'all'."
        )


def describe(settings: Settings) -> str:
    """One line for the start-up log: the role and what it serves where."""
    parts = parts_of(settings)
    served = []
    if parts.receivers:
        served.append(f"OTLP/gRPC on {settings.host}:{settings.otlp_grpc_port}")
        served.append(f"OTLP/HTTP on port {settings.otlp_http_port}")
    if parts.full_api:
        served.append(f"the API on port {settings.api_port}")
    else:
        served.append(f"health and self-metrics on port {settings.api_port} (no search API)")
    return f"tsdev serving role {settings.role}: {', '.join(served)}; {_jobs_text(settings, parts)}"


def _jobs_text(settings: Settings, parts: Parts) -> str:
    if parts.jobs:
        return f"analysis jobs in-process every {settings.analysis_interval_seconds:g} s"
    if not parts.full_api:
        return "no analysis jobs (they run with the API)"
    if settings.redis_url:
        return "analysis jobs run by Celery (TSDEV_REDIS_URL)"
    return "in-process analysis jobs off (TSDEV_ANALYSIS_INTERVAL_SECONDS=0)"
