"""Finding statuses: set by people, resolved after a deploy without the pattern, regressed after that."""

from __future__ import annotations

from tests.jobs.support import N_PLUS_ONE, clean, loops, store_traces, window
from tsdev.analysis.jobs import analyze_window, repository
from tsdev.analysis.jobs.records import FindingRecord, SettableStatus
from tsdev.core.store import Store


def _status(store: Store) -> FindingRecord:
    record = repository.get(store, N_PLUS_ONE)
    assert record is not None
    return record


def test_a_new_version_without_the_pattern_resolves_and_its_return_regresses(fresh_store: Store) -> None:
    store_traces(
        fresh_store,
        loops(1, 10, at_s=10, version="1.0.0")
        + clean(101, 10, at_s=700, version="1.1.0")
        + loops(201, 10, at_s=1300, version="1.2.0"),
    )
    analyze_window(fresh_store, window(0, 600))
    assert _status(fresh_store).status == "open"

    resolved = analyze_window(fresh_store, window(600, 1200))
    record = _status(fresh_store)
    assert N_PLUS_ONE in resolved.resolved
    assert (record.status, record.resolved_version) == ("resolved", "1.1.0")

    regressed = analyze_window(fresh_store, window(1200, 1800))
    record = _status(fresh_store)
    assert N_PLUS_ONE in regressed.regressed
    assert record.status == "regressed"
    assert record.service_versions == ("1.0.0", "1.2.0")
    assert record.times_seen == 2


def test_traffic_of_the_same_version_without_the_pattern_resolves_nothing(fresh_store: Store) -> None:
    store_traces(fresh_store, loops(1, 10, at_s=10) + clean(101, 10, at_s=700, version="1.0.0"))
    analyze_window(fresh_store, window(0, 600))
    assert analyze_window(fresh_store, window(600, 1200)).resolved == []
    assert _status(fresh_store).status == "open"


def test_reanalysing_old_traffic_of_an_older_version_resolves_nothing(fresh_store: Store) -> None:
    store_traces(fresh_store, clean(1, 10, at_s=10, version="0.9.0") + loops(101, 10, at_s=700))
    analyze_window(fresh_store, window(600, 1200))
    assert analyze_window(fresh_store, window(0, 600)).resolved == []
    assert _status(fresh_store).status == "open"


def test_a_person_sets_open_acknowledged_or_ignored(fresh_store: Store) -> None:
    store_traces(fresh_store, loops(1, 10, at_s=10))
    analyze_window(fresh_store, window(0, 600))
    statuses: tuple[SettableStatus, ...] = ("acknowledged", "ignored", "open")
    for status in statuses:
        changed = repository.change_status(fresh_store, N_PLUS_ONE, status)
        assert changed is not None and changed.status == status
        assert _status(fresh_store).status == status
    assert repository.change_status(fresh_store, "v1:absent", "ignored") is None


def test_an_ignored_finding_stays_ignored_when_seen_again_or_gone(fresh_store: Store) -> None:
    store_traces(
        fresh_store,
        loops(1, 10, at_s=10) + loops(101, 10, at_s=700) + clean(201, 10, at_s=1300, version="2.0.0"),
    )
    analyze_window(fresh_store, window(0, 600))
    repository.change_status(fresh_store, N_PLUS_ONE, "ignored")
    analyze_window(fresh_store, window(600, 1200))
    assert (_status(fresh_store).status, _status(fresh_store).times_seen) == ("ignored", 2)
    assert N_PLUS_ONE not in analyze_window(fresh_store, window(1200, 1800)).resolved
    assert _status(fresh_store).status == "ignored"


def test_an_acknowledged_finding_resolves_like_an_open_one(fresh_store: Store) -> None:
    store_traces(fresh_store, loops(1, 10, at_s=10) + clean(101, 10, at_s=700, version="2.0.0"))
    analyze_window(fresh_store, window(0, 600))
    repository.change_status(fresh_store, N_PLUS_ONE, "acknowledged")
    analyze_window(fresh_store, window(600, 1200))
    assert _status(fresh_store).status == "resolved"
