"""Opaque cursors for keyset pagination.

A page ends at some sort key (a time in nanoseconds and a tie-breaker); the next page starts strictly
after it. Keyset pagination stays correct while new data arrives (offsets would shift) and costs the
same on page 100 as on page 1. The cursor is that key, encoded so clients treat it as a token.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from tsdev.core.query.errors import InvalidParameterError


@dataclass(frozen=True)
class Cursor:
    time_ns: int
    tiebreak: str

    def encode(self) -> str:
        raw = json.dumps([self.time_ns, self.tiebreak], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, token: str | None, parameter: str = "cursor") -> Cursor | None:
        if not token:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            time_ns, tiebreak = json.loads(raw)
        except (binascii.Error, ValueError, TypeError) as exc:
            raise InvalidParameterError(parameter, "not a cursor returned by a previous page") from exc
        if not isinstance(time_ns, int) or not isinstance(tiebreak, str):
            raise InvalidParameterError(parameter, "not a cursor returned by a previous page")
        return cls(time_ns, tiebreak)
