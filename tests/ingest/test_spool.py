"""The on-disk spool: durable appends, ordered replay, damaged tails, size limit, restart progress."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from tsdev.ingest.spool import Spool, SpoolFull


def _rows(*values: int) -> pa.Table:
    return pa.table({"n": pa.array(values, pa.int64())})


class Recorder:
    def __init__(self, fail_after: int | None = None) -> None:
        self.inserted: list[tuple[str, list[int]]] = []
        self.fail_after = fail_after

    def __call__(self, table: str, rows: pa.Table) -> None:
        if self.fail_after is not None and len(self.inserted) >= self.fail_after:
            raise ConnectionError("store down")
        self.inserted.append((table, rows.column("n").to_pylist()))


def test_replay_in_order_then_empty(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10**6)
    spool.append("otel_traces", _rows(1, 2))
    spool.append("otel_logs", _rows(3))
    assert not spool.is_empty() and spool.size_bytes > 0
    recorder = Recorder()
    assert spool.replay(recorder) == 2
    assert recorder.inserted == [("otel_traces", [1, 2]), ("otel_logs", [3])]
    assert spool.is_empty() and spool.size_bytes == 0


def test_failed_replay_resumes_after_the_last_inserted_record_even_after_restart(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10**6)
    for n in range(5):
        spool.append("t", _rows(n))
    first = Recorder(fail_after=2)
    with pytest.raises(ConnectionError):
        spool.replay(first)
    assert first.inserted == [("t", [0]), ("t", [1])]
    reopened = Spool(tmp_path, max_bytes=10**6)
    second = Recorder()
    assert reopened.replay(second) == 3
    assert second.inserted == [("t", [2]), ("t", [3]), ("t", [4])]


def test_appends_during_an_outage_after_a_replay_attempt_are_kept(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10**6)
    spool.append("t", _rows(1))
    with pytest.raises(ConnectionError):
        spool.replay(Recorder(fail_after=0))
    spool.append("t", _rows(2))
    recorder = Recorder()
    assert spool.replay(recorder) == 2
    assert recorder.inserted == [("t", [1]), ("t", [2])]


def test_a_torn_last_record_is_skipped_and_earlier_ones_replayed(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=10**6)
    spool.append("t", _rows(1))
    spool.append("t", _rows(2))
    (segment,) = tmp_path.glob("*.seg")
    segment.write_bytes(segment.read_bytes()[:-5])
    recorder = Recorder()
    Spool(tmp_path, max_bytes=10**6).replay(recorder)
    assert recorder.inserted == [("t", [1])]


def test_a_full_spool_refuses(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=600)
    spool.append("t", _rows(*range(10)))
    size = spool.size_bytes
    assert 2 * size > 600  # a second record cannot fit
    with pytest.raises(SpoolFull):
        spool.append("t", _rows(*range(10)))
    assert spool.size_bytes == size
