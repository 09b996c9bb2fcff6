"""The batching writer answers every request of a batch it cannot commit and keeps serving."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue

from tests.ingest.test_engine_decode import _request, _span
from tsdev.core.store import Store, tables
from tsdev.ingest.engine import CheckFirst
from tsdev.ingest.signals import TRACES
from tsdev.ingest.telemetry import IngestMetrics
from tsdev.ingest.writer import BatchWriter


def test_a_batch_that_cannot_even_be_converted_fails_its_requests_and_the_writer_goes_on(
    fresh_store: Store,
) -> None:
    (broken,) = TRACES.decode(_request([_span(1)]), json_body=False).rows
    broken.columns["Duration"][0] = "not a number"  # Arrow refuses to build this column

    async def scenario() -> None:
        writer = BatchWriter(fresh_store, IngestMetrics())
        writer.start()
        with pytest.raises(Exception, match=r"not a number"):
            await writer.write([broken])
        good = TRACES.decode(_request([_span(3)]), json_body=False)
        await asyncio.wait_for(writer.write(good.rows), timeout=60)
        await writer.close()

    asyncio.run(scenario())
    assert fresh_store.query_rows(f"SELECT count() FROM {fresh_store.table(tables.TRACES)}") == [(1,)]


def _inserts(metrics: IngestMetrics) -> float:
    labels = {"table": tables.TRACES, "outcome": "ok"}
    return metrics.registry.get_sample_value("tsdev_store_batches_total", labels) or 0.0


def test_requests_answered_together_come_back_into_one_insert(fresh_store: Store) -> None:
    # Four clients answered by one insert send their next requests a little apart; the writer waits
    # for as many as its last batch held instead of inserting the first on its own.
    async def scenario() -> tuple[float, float]:
        metrics = IngestMetrics()
        writer = BatchWriter(fresh_store, metrics, linger_seconds=30)
        writer.start()
        first = [TRACES.decode(_request([_span(n)]), json_body=False).rows for n in range(4)]
        await asyncio.gather(*(writer.write(rows) for rows in first))
        first_wave = _inserts(metrics)

        async def later(n: int) -> None:
            await asyncio.sleep(0.02 * n)
            await writer.write(TRACES.decode(_request([_span(10 + n)]), json_body=False).rows)

        await asyncio.wait_for(asyncio.gather(*(later(n) for n in range(4))), timeout=25)
        await writer.close()
        return first_wave, _inserts(metrics) - first_wave

    first_wave, second_wave = asyncio.run(scenario())
    assert first_wave == 1
    assert second_wave == 1
    assert fresh_store.query_rows(f"SELECT count() FROM {fresh_store.table(tables.TRACES)}") == [(8,)]


def test_an_idle_writer_does_not_wait_for_company(fresh_store: Store) -> None:
    # One request at a time: each batch held one, so none waits for the (here absurdly long) linger.
    async def scenario() -> None:
        writer = BatchWriter(fresh_store, IngestMetrics(), linger_seconds=600)
        writer.start()
        for n in range(3):
            rows = TRACES.decode(_request([_span(n)]), json_body=False).rows
            await asyncio.wait_for(writer.write(rows), timeout=120)
        await writer.close()

    asyncio.run(scenario())
    assert fresh_store.query_rows(f"SELECT count() FROM {fresh_store.table(tables.TRACES)}") == [(3,)]


def test_after_an_unchecked_insert_failed_the_next_batches_are_checked_first(
    fresh_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The engine path inserts a batch unchecked, and checks each request only when that fails; the
    # writer then has the engine check the batches after it first.
    asked: list[bool] = []
    wanted = CheckFirst.wanted

    def recording(plan: CheckFirst, table: str) -> bool:
        answer = wanted(plan, table)
        asked.append(answer)
        return answer

    monkeypatch.setattr(CheckFirst, "wanted", recording)
    odd = _span(0, attributes=[KeyValue(key="list", value=AnyValue(array_value=ArrayValue()))])
    bodies = [_request([_span(1)]), _request([odd]), _request([_span(2)]), _request([_span(3)])]

    async def scenario() -> None:
        writer = BatchWriter(fresh_store, IngestMetrics())
        writer.start()
        for body in bodies:
            rows = TRACES.decode_for_engine(body).engine_rows
            await asyncio.wait_for(writer.write(list(rows)), timeout=120)
        await writer.close()

    asyncio.run(scenario())
    assert asked == [False, False, True, True]
    assert fresh_store.query_rows(f"SELECT count() FROM {fresh_store.table(tables.TRACES)}") == [(4,)]


def test_check_first_lasts_a_given_number_of_batches_of_the_table_that_failed() -> None:
    plan = CheckFirst(batches=2)
    plan.unchecked_failed(tables.TRACES)
    assert [plan.wanted(tables.TRACES) for _ in range(3)] == [True, True, False]
    assert not plan.wanted(tables.LOGS)
    plan.unchecked_failed(tables.TRACES)
    assert plan.wanted(tables.TRACES)
