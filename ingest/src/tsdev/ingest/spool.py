"""An on-disk spool for batches the store could not take, so an outage never loses acknowledged data.

Layout: a directory of append-only segment files named by a rising sequence number. Each record is

    magic b"TSP1" | payload length (u32) | CRC-32 of the payload (u32) | payload

where the payload is the target table's name (u16 length + UTF-8) followed by the rows as an Arrow IPC
stream. A record is flushed and fsynced before :meth:`Spool.append` returns, which is what lets the
receiver acknowledge a request whose insert failed. Replay reads segments oldest first; a record whose
checksum does not match (a write cut short by a crash) ends its segment, since nothing after it can have
been acknowledged. A fully replayed segment is deleted; progress inside the current segment is kept in
``replay.offset`` so a restart does not insert a replayed record again.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

logger = logging.getLogger(__name__)

MAGIC = b"TSP1"
_HEADER = struct.Struct("<4sII")
_NAME = struct.Struct("<H")
SEGMENT_BYTES = 64 * 1024 * 1024
_OFFSET_FILE = "replay.offset"


class SpoolFull(RuntimeError):
    """The spool reached its size limit; the receiver must push back instead of accepting."""


@dataclass(frozen=True)
class SpooledBatch:
    table: str
    rows: pa.Table
    segment: Path
    end_offset: int


def _encode(table: str, rows: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, rows.schema) as writer:
        writer.write_table(rows)
    name = table.encode()
    payload: bytes = _NAME.pack(len(name)) + name + sink.getvalue().to_pybytes()
    return _HEADER.pack(MAGIC, len(payload), zlib.crc32(payload)) + payload


def _decode(payload: bytes) -> tuple[str, pa.Table]:
    (name_length,) = _NAME.unpack_from(payload)
    table = payload[_NAME.size : _NAME.size + name_length].decode()
    rows = pa.ipc.open_stream(payload[_NAME.size + name_length :]).read_all()
    return table, rows


class Spool:
    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        directory.mkdir(parents=True, exist_ok=True)
        self._size = sum(path.stat().st_size for path in self._segments())
        self._next_segment = max((int(path.stem) for path in self._segments()), default=0) + 1
        self._current: Path | None = None

    def _segments(self) -> list[Path]:
        return sorted(self.directory.glob("*.seg"), key=lambda path: int(path.stem))

    @property
    def size_bytes(self) -> int:
        return self._size

    def is_empty(self) -> bool:
        return not self._segments()

    def append(self, table: str, rows: pa.Table) -> None:
        """Write one batch durably (flushed and fsynced) or raise :class:`SpoolFull`."""
        record = _encode(table, rows)
        with self._lock:
            if self._size + len(record) > self.max_bytes:
                raise SpoolFull(f"spool at {self.directory} is full ({self._size} of {self.max_bytes} bytes)")
            if self._current is None or self._current.stat().st_size >= SEGMENT_BYTES:
                self._current = self.directory / f"{self._next_segment:012d}.seg"
                self._next_segment += 1
                self._fsync_directory()
            with self._current.open("ab") as segment:
                segment.write(record)
                segment.flush()
                os.fsync(segment.fileno())
            self._size += len(record)

    def replay(self, insert: Callable[[str, pa.Table], None]) -> int:
        """Insert spooled batches oldest first; stop at the first failure (it is retried later).

        Returns the number of batches replayed."""
        replayed = 0
        with self._lock:
            # Appends go to a fresh segment from here on, so the segments read below are complete.
            self._current = None
            segments = self._segments()
        for segment in segments:
            for batch in self._read(segment, self._replay_offset(segment)):
                insert(batch.table, batch.rows)
                self._save_offset(segment, batch.end_offset)
                replayed += 1
            with self._lock:
                self._size -= segment.stat().st_size
                segment.unlink()
                (self.directory / _OFFSET_FILE).unlink(missing_ok=True)
        return replayed

    def _read(self, segment: Path, start: int) -> Iterator[SpooledBatch]:
        data = segment.read_bytes()
        offset = start
        while offset + _HEADER.size <= len(data):
            magic, length, checksum = _HEADER.unpack_from(data, offset)
            payload = data[offset + _HEADER.size : offset + _HEADER.size + length]
            if magic != MAGIC or len(payload) != length or zlib.crc32(payload) != checksum:
                logger.warning(
                    "spool segment %s ends with a damaged record at byte %s; skipping it", segment, offset
                )
                return
            offset += _HEADER.size + length
            table, rows = _decode(payload)
            yield SpooledBatch(table, rows, segment, offset)

    def _replay_offset(self, segment: Path) -> int:
        path = self.directory / _OFFSET_FILE
        if not path.exists():
            return 0
        name, _, offset = path.read_text().partition(" ")
        return int(offset) if name == segment.name else 0

    def _save_offset(self, segment: Path, offset: int) -> None:
        path = self.directory / _OFFSET_FILE
        temporary = path.with_suffix(".tmp")
        with temporary.open("w") as handle:
            handle.write(f"{segment.name} {offset}")
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)

    def _fsync_directory(self) -> None:
        descriptor = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
