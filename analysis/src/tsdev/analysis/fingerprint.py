"""Finding fingerprints, computed here and nowhere else.

A fingerprint names a problem, not an occurrence: the same N+1 loop seen tomorrow on another
machine must produce the same string, so only already-normalized signatures go in (kind, service,
parent operation, normalized operations), never trace or span ids, times or literal values. The
``v1:`` prefix is part of the value; changing what goes into the hash, or how, is a breaking change
(stored findings would reappear as new ones) and must bump it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

FINGERPRINT_VERSION = "v1"
_SEPARATOR = "\x1f"  # unit separator: cannot occur in span names or normalized statements


def fingerprint(kind: str, service: str, parent_operation: str, operations: Sequence[str]) -> str:
    """``v1:`` plus 32 hex digits of SHA-256 over the signature fields, in the order given.

    Order of ``operations`` matters (a repeated multi-span pattern is a sequence); callers pass a
    sorted tuple where order carries no meaning.
    """
    payload = _SEPARATOR.join((kind, service, parent_operation, *operations))
    digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]
    return f"{FINGERPRINT_VERSION}:{digest}"
