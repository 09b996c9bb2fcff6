"""Schema of what analysis decides: findings and the watermark of incremental analysis.

Findings are rewritten, never updated in place: each change (seen again, status set, resolved) inserts
the whole row with a higher ``Version``, and ``ReplacingMergeTree`` keeps the newest per fingerprint.
Readers use ``FINAL`` so they see one row per finding before background merges have run. This keeps
every write an append, which ClickHouse (and chDB) handle far better than mutations.
"""

from __future__ import annotations

FINDINGS = "tsdev_findings"
ANALYSIS_WATERMARK = "tsdev_analysis_watermark"

FINDINGS_DDL = """
CREATE TABLE IF NOT EXISTS {db}.tsdev_findings (
    Fingerprint String,
    Kind LowCardinality(String),
    ServiceName LowCardinality(String),
    Status LowCardinality(String),
    Severity LowCardinality(String),
    Title String,
    ParentOperation String,
    Operations Array(String),
    Evidence String CODEC(ZSTD(1)),
    EstimatedSavingMsPerHour Float64,
    SuggestedChange String CODEC(ZSTD(1)),
    FirstSeen DateTime64(9),
    LastSeen DateTime64(9),
    TimesSeen UInt64,
    TracesAffected UInt64,
    ServiceVersions Array(String),
    CountedFrom DateTime64(9),
    CountedUntil DateTime64(9),
    StatusChangedAt DateTime64(9),
    ResolvedVersion String,
    PrNumber Nullable(UInt64),
    PrUrl String,
    PrState LowCardinality(String),
    Version UInt64
) ENGINE = ReplacingMergeTree(Version)
ORDER BY Fingerprint
"""
"""One row per finding (after merges). ``Evidence`` is the detector's evidence as JSON text.
``CountedFrom``/``CountedUntil`` bound the span time whose traffic is already in ``TimesSeen`` and
``TracesAffected``, so re-analysing a window never counts it twice. ``Pr*`` are filled by the advisor."""

ANALYSIS_WATERMARK_DDL = """
CREATE TABLE IF NOT EXISTS {db}.tsdev_analysis_watermark (
    Job LowCardinality(String),
    Watermark DateTime64(9),
    UpdatedAt DateTime64(9) DEFAULT now64(9)
) ENGINE = ReplacingMergeTree(UpdatedAt)
ORDER BY Job
"""
"""Per incremental job, the end of the last window analysed (spans before it are done)."""
