"""The batching writer answers every request of a batch it cannot commit and keeps serving."""

from __future__ import annotations

import asyncio

import pytest

from tests.ingest.test_engine_decode import _request, _span
from tsdev.core.store import Store, tables
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
