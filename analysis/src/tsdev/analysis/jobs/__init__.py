"""The analysis job runner: windows of stored spans through every detector into stored findings.

Plain functions over a :class:`~tsdev.core.store.Store`; the embedded scheduler
(:mod:`.scheduler`), the Celery tasks (:mod:`.distributed`) and the API call the same ones.
"""

from tsdev.analysis.jobs.records import (
    STATUSES,
    FindingRecord,
    SettableStatus,
    Status,
    Window,
)
from tsdev.analysis.jobs.runner import (
    MAX_WINDOW_S,
    SCHEDULED_JOB,
    AnalysisSummary,
    analyze_range,
    analyze_window,
    read_spans,
    run_incremental,
    split,
)
from tsdev.analysis.jobs.scheduler import IntervalScheduler

__all__ = [
    "MAX_WINDOW_S",
    "SCHEDULED_JOB",
    "STATUSES",
    "AnalysisSummary",
    "FindingRecord",
    "IntervalScheduler",
    "SettableStatus",
    "Status",
    "Window",
    "analyze_range",
    "analyze_window",
    "read_spans",
    "run_incremental",
    "split",
]
