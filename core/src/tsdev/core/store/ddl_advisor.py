"""Schema of the advisor's pull requests: one row per attempt to advise a finding.

Append-only like the findings: an attempt that opens, updates, comments on or skips a PR inserts a
row, and the newest row per (Repo, Fingerprint) is the PR's current record. The history stays, so
the API can say why a finding has no PR (limits, closed without merge, validation refused).
"""

from __future__ import annotations

ADVISOR_PULL_REQUESTS = "tsdev_advisor_pull_requests"

ADVISOR_PULL_REQUESTS_DDL = """
CREATE TABLE IF NOT EXISTS {db}.tsdev_advisor_pull_requests (
    Repo LowCardinality(String),
    Fingerprint String,
    Kind LowCardinality(String),
    Status LowCardinality(String),
    Reason String,
    Engine LowCardinality(String),
    Branch String,
    Title String,
    PrNumber Nullable(UInt64),
    PrUrl String,
    PrState LowCardinality(String),
    HeadSha String,
    DiffLines UInt32,
    InputTokens UInt64,
    OutputTokens UInt64,
    CacheReadTokens UInt64,
    CreatedAt DateTime64(3) DEFAULT now64(3)
) ENGINE = MergeTree
ORDER BY (Repo, Fingerprint, CreatedAt)
"""
"""``Status``: created, updated, unchanged, commented, skipped, dry_run, report or failed."""
