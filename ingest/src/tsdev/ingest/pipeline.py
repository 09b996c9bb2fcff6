"""What every receiver does with a request body: admit it within the memory budget, decode it, and
wait until its rows are stored.

The budget bounds the bytes of request bodies being decoded or waiting for their commit, whatever the
transport. Past it a request is refused at once with :class:`Overloaded` (HTTP 429, gRPC UNAVAILABLE
with RetryInfo) rather than queued, so memory stays bounded under a flood and the exporters retry later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from tsdev.ingest.decode import Decoded
from tsdev.ingest.signals import Signal
from tsdev.ingest.telemetry import IngestMetrics
from tsdev.ingest.writer import BatchWriter, QueueFull

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
# Bodies above this are decoded off the event loop so health checks stay responsive meanwhile.
_DECODE_IN_THREAD_BYTES = 256 * 1024


class Overloaded(RuntimeError):
    """The in-flight budget or the writer's queue is full; the client should retry later."""

    retry_after_seconds = RETRY_AFTER_SECONDS


class StoreUnavailable(RuntimeError):
    """The store could not commit the rows; nothing of the request was acknowledged."""

    retry_after_seconds = RETRY_AFTER_SECONDS


class InflightBudget:
    """Bytes admitted and not yet answered. Single event loop, so no lock is needed."""

    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        self.used_bytes = 0

    def try_acquire(self, size: int) -> bool:
        # One request larger than the whole budget is still admitted when nothing else is in flight;
        # the body limit, not the budget, is what caps a single request.
        if self.used_bytes and self.used_bytes + size > self.limit_bytes:
            return False
        self.used_bytes += size
        return True

    def release(self, size: int) -> None:
        self.used_bytes -= size


class IngestPipeline:
    def __init__(
        self,
        writer: BatchWriter,
        metrics: IngestMetrics,
        max_inflight_bytes: int,
        *,
        engine_decode: bool = False,
    ) -> None:
        self.writer = writer
        self.engine_decode = engine_decode
        self.metrics = metrics
        self.budget = InflightBudget(max_inflight_bytes)

    async def export(self, signal: Signal, body: bytes, *, json_body: bool) -> Decoded:
        """Decode and store ``body``. Raises ``BadRequest`` (undecodable), :class:`Overloaded` or
        :class:`StoreUnavailable`; returns what was stored and refused otherwise."""
        size = len(body)
        if not self.budget.try_acquire(size):
            raise Overloaded(f"{self.budget.used_bytes} bytes in flight; retry later")
        try:
            decode = signal.decode
            if self.engine_decode and not json_body and signal.engine_can_decode:
                decode = _engine_decoder(signal)
            if size > _DECODE_IN_THREAD_BYTES:
                decoded = await asyncio.to_thread(decode, body, json_body=json_body)
            else:
                decoded = decode(body, json_body=json_body)
            del body
            try:
                await self.writer.write([*decoded.rows, *decoded.engine_rows])
            except QueueFull as exc:
                raise Overloaded(str(exc)) from None
            except Exception as exc:
                logger.warning("could not store %s request: %s", signal.name, exc)
                raise StoreUnavailable("the store could not commit the data; retry later") from exc
        finally:
            self.budget.release(size)
        decoded = _as_stored(decoded)
        self.metrics.items.labels(signal.name).inc(decoded.accepted)
        if decoded.rejected:
            self.metrics.rejected.labels(signal.name).inc(decoded.rejected)
            logger.info(
                "%s request: %s items refused: %s", signal.name, decoded.rejected, decoded.error_message
            )
        return decoded


def _engine_decoder(signal: Signal) -> Callable[..., Decoded]:
    def decode(body: bytes, *, json_body: bool) -> Decoded:
        return signal.decode_for_engine(body)

    return decode


def _as_stored(decoded: Decoded) -> Decoded:
    """What a request stored: the Python decoder's account when the engine passed it on."""
    for rows in decoded.engine_rows:
        if rows.decoded is not None:
            return rows.decoded
    return decoded
