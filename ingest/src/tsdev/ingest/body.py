"""Reading request bodies within a size limit, decompressing gzip without trusting its size."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator


class BodyTooLarge(ValueError):
    """The body, after decompression, is larger than the limit."""


class BadEncoding(ValueError):
    """The body is not valid for its ``Content-Encoding``."""


class UnsupportedEncoding(ValueError):
    """The ``Content-Encoding`` is not one tsdev accepts."""


async def read_limited(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """The whole body, refusing it as soon as it passes ``limit`` bytes."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"request body exceeds {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)


def decompress(body: bytes, encoding: str, limit: int) -> bytes:
    """Undo ``Content-Encoding``; output is produced in bounded steps so a small bomb never
    inflates past ``limit`` in memory."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise UnsupportedEncoding(f"unsupported Content-Encoding {encoding!r}; use gzip or none")
    # 32 + MAX_WBITS lets zlib detect gzip or zlib headers by itself.
    inflater = zlib.decompressobj(32 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
    output = bytearray()
    pending = body
    try:
        while pending:
            output += inflater.decompress(pending, limit + 1 - len(output))
            if len(output) > limit:
                raise BodyTooLarge(f"decompressed request body exceeds {limit} bytes")
            pending = inflater.unconsumed_tail
            if inflater.eof:
                break
        if not inflater.eof:
            raise BadEncoding(f"truncated {encoding} body")
    except zlib.error as exc:
        raise BadEncoding(f"invalid {encoding} body: {exc}") from None
    return bytes(output)
