"""The app-recorded corpus: every positive scenario found, no near miss reported (precision and recall
1.0 per kind), on spans that went through the real OpenTelemetry SDK, OTLP and tsdev's store."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.analysis.corpus.app import ENDPOINTS
from tests.analysis.corpus.manifest import SCENARIOS
from tests.analysis.corpus.record import detect, record_into, score, table
from tsdev.analysis.findings import KINDS
from tsdev.core.store import Store


def test_the_manifest_has_positives_and_near_misses_of_every_kind_each_with_an_endpoint() -> None:
    names = [s.name for s in SCENARIOS]
    assert len(set(names)) == len(names)
    assert set(names) == set(ENDPOINTS)
    for kind in KINDS:
        labels = {s.positive for s in SCENARIOS if s.kind == kind}
        assert labels == {True, False}, kind


@pytest.mark.integration
@pytest.mark.slow
def test_detectors_find_every_positive_and_no_near_miss_of_the_recorded_corpus(
    fresh_store: Store, tmp_path: Path
) -> None:
    recording = record_into(fresh_store, data_dir=tmp_path)

    for scenario in SCENARIOS:
        statuses = recording.statuses[scenario.name]
        assert statuses.total() == scenario.requests, scenario.name
        assert not {s for s in statuses if s == 500 or s < 200}, (scenario.name, statuses)
    # Every request's server span reached the store through the SDK's exporter and tsdev's receiver.
    traces = fresh_store.table("otel_traces")
    served = dict(
        fresh_store.query_rows(
            f"SELECT ServiceName, count() FROM {traces} WHERE SpanKind = 'Server' GROUP BY ServiceName"
        )
    )
    assert served == {s.name: s.requests for s in SCENARIOS}

    scores = score(detect(fresh_store, recording.window))
    report = table(scores)
    for kind, result in scores.items():
        assert (result.precision, result.recall) == (1.0, 1.0), f"{kind}\n{report}"
